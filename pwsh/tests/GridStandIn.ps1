# A stand-in Infoblox grid for the -WAPIVersion latest tests: an HTTPS server
# on 127.0.0.1 (a free port, written to PortFile) with a self-signed
# certificate it makes (its PEM written to CertFile, for SSL_CERT_FILE).
# It answers a bounded number of requests and stops after a time limit.
#
#   Mode schema      _schema lists supported_versions (out of order)
#   Mode old         _schema fails as before WAPI 1.7.5; /wapidoc/ names the version
#   Mode noversions  _schema answers without supported_versions
using namespace System.Security.Cryptography
using namespace System.Security.Cryptography.X509Certificates

param(
    [Parameter(Mandatory)] [ValidateSet('schema', 'old', 'noversions')] [string] $Mode,
    [Parameter(Mandatory)] [string] $PortFile,
    [Parameter(Mandatory)] [string] $CertFile,
    [string] $User = 'admin',
    [string] $Password = 'grid-pass',
    [int] $MaxRequests = 50,
    [int] $Seconds = 300
)
$ErrorActionPreference = 'Stop'

function New-GridCertificate {
    $key = [RSA]::Create(2048)
    $request = [CertificateRequest]::new('CN=grid.example.test', $key,
        [HashAlgorithmName]::SHA256, [RSASignaturePadding]::Pkcs1)
    $names = [SubjectAlternativeNameBuilder]::new()
    $names.AddIpAddress([Net.IPAddress]::Loopback)
    $names.AddDnsName('localhost')
    $request.CertificateExtensions.Add($names.Build())
    $request.CertificateExtensions.Add([X509BasicConstraintsExtension]::new($true, $false, 0, $true))
    $cert = $request.CreateSelfSigned([DateTimeOffset]::Now.AddDays(-1), [DateTimeOffset]::Now.AddDays(2))
    # Re-import so that SslStream on Linux can use the private key.
    [X509Certificate2]::new($cert.Export([X509ContentType]::Pfx))
}

function Get-Answer([string] $target, [string] $authorization) {
    $expected = 'Basic ' + [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes("${User}:$Password"))
    if ($authorization -ne $expected) {
        return 401, 'application/json', '{"Error": "AdmConProtoError: Authorization Required"}'
    }
    if ($target -like '/wapi/v1.1/?_schema*') {
        switch ($Mode) {
            'schema' {
                return 200, 'application/json', '{"requested_version": "1.1", "supported_objects": ["network"], "supported_versions": ["1.0", "2.9", "2.12.3", "2.10", "1.7.5"]}'
            }
            'old' {
                return 400, 'application/json', '{ "Error": "AdmConProtoError: Unknown argument: _schema=", "code": "Client.Ibap.Proto", "text": "Unknown argument: _schema=" }'
            }
            'noversions' { return 200, 'application/json', '{"requested_version": "1.1"}' }
        }
    }
    if ($target -eq '/wapidoc/' -and $Mode -eq 'old') {
        return 200, 'text/html', '<html><head><title>Infoblox WAPI 1.4.2 documentation</title></head><body></body></html>'
    }
    return 404, 'text/plain', 'not found'
}

function Invoke-Exchange([Net.Sockets.TcpClient] $client, $cert) {
    $ssl = [Net.Security.SslStream]::new($client.GetStream(), $false)
    try {
        $ssl.AuthenticateAsServer($cert)
        $reader = [IO.StreamReader]::new($ssl, [Text.Encoding]::ASCII, $false, 4096, $true)
        $target = ($reader.ReadLine() -split ' ')[1]
        $authorization = ''
        while (($line = $reader.ReadLine())) {
            if ($line -like 'Authorization:*') { $authorization = $line.Substring(14).Trim() }
        }
        $status, $type, $body = Get-Answer $target $authorization
        $bytes = [Text.Encoding]::UTF8.GetBytes($body)
        $head = "HTTP/1.1 $status X`r`nContent-Type: $type`r`nContent-Length: $($bytes.Length)`r`nConnection: close`r`n`r`n"
        $ssl.Write([Text.Encoding]::ASCII.GetBytes($head))
        $ssl.Write($bytes)
        $ssl.Flush()
    } catch {
        # A client that rejects our certificate ends the handshake: expected in tests.
    } finally {
        $ssl.Dispose()
        $client.Dispose()
    }
}

$cert = New-GridCertificate
$pem = "-----BEGIN CERTIFICATE-----`n" +
    [Convert]::ToBase64String($cert.RawData, 'InsertLineBreaks') + "`n-----END CERTIFICATE-----`n"
Set-Content -Path $CertFile -Value $pem -NoNewline
$listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
$listener.Start()
Set-Content -Path $PortFile -Value $listener.LocalEndpoint.Port -NoNewline

$deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
for ($served = 0; $served -lt $MaxRequests -and [DateTime]::UtcNow -lt $deadline; $served++) {
    $pending = $listener.AcceptTcpClientAsync()
    while (-not $pending.Wait(500)) {
        if ([DateTime]::UtcNow -ge $deadline) { break }
    }
    if (-not $pending.IsCompleted) { break }
    Invoke-Exchange $pending.Result $cert
}
$listener.Stop()
