# A4: -WAPIVersion latest asks the grid. Each case starts the HTTPS stand-in
# grid (GridStandIn.ps1) on 127.0.0.1 with a certificate it makes.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force

    function Start-Grid([string] $Mode) {
        $dir = New-TestHome
        $portFile = Join-Path $dir 'port'
        $certFile = Join-Path $dir 'grid.pem'
        $pwshDll = [Reflection.Assembly]::GetEntryAssembly().Location
        $argList = @($pwshDll, '-NoProfile', '-NonInteractive', '-File',
            (Join-Path $PSScriptRoot 'GridStandIn.ps1'), '-Mode', $Mode,
            '-PortFile', $portFile, '-CertFile', $certFile, '-Seconds', '120')
        $process = Start-Process (Get-Process -Id $PID).Path -ArgumentList $argList -PassThru
        for ($i = 0; $i -lt 100 -and -not (Test-Path $portFile); $i++) { Start-Sleep -Milliseconds 100 }
        Start-Sleep -Milliseconds 200
        [pscustomobject]@{
            Process = $process; Host = "127.0.0.1:$(Get-Content $portFile)"; CertFile = $certFile
        }
    }

    function Set-Latest($grid, [string] $password, [switch] $Skip, [switch] $Trust) {
        $homeDir = New-TestHome
        $file = Copy-Fixture 'posh-ibwapi.ps7-linux.json' $homeDir
        $before = Get-Content $file -Raw
        $envVars = @{}
        if ($Trust) { $envVars.SSL_CERT_FILE = $grid.CertFile }
        $skipArg = if ($Skip) { '-SkipCertificateCheck' } else { '' }
        $r = Invoke-FreshPwsh -HomeDir $homeDir -Environment $envVars -Script @"
            `$c = [pscredential]::new('admin', (ConvertTo-SecureString '$password' -AsPlainText -Force))
            Set-IBConfig -ProfileName grid -WAPIHost '$($grid.Host)' -WAPIVersion latest -Credential `$c $skipArg
            (Get-IBConfig grid).WAPIVersion
"@
        $r | Add-Member -NotePropertyName Unchanged -NotePropertyValue ((Get-Content $file -Raw) -eq $before) -PassThru
    }
}

Describe 'Set-IBConfig -WAPIVersion latest' {

    AfterEach {
        if ($grid -and -not $grid.Process.HasExited) { $grid.Process.Kill() }
    }

    It 'takes the highest of supported_versions by version order' {
        $grid = Start-Grid schema

        $r = Set-Latest $grid 'grid-pass' -Skip

        $r.Terminating | Should -BeNullOrEmpty
        $r.Output | Should -Be '2.12.3'
        $json = Get-Content (Get-ConfigPath $r.HomeDir) -Raw | ConvertFrom-Json
        $json.Profiles.grid.WAPIVersion | Should -Be '2.12.3'
    }

    It 'trusts a certificate the machine trusts, without -SkipCertificateCheck' {
        $grid = Start-Grid schema

        $r = Set-Latest $grid 'grid-pass' -Trust

        $r.Terminating | Should -BeNullOrEmpty
        $r.Output | Should -Be '2.12.3'
    }

    It 'reads the version from the wapidoc title on a grid too old for _schema' {
        $grid = Start-Grid old

        $r = Set-Latest $grid 'grid-pass' -Skip

        $r.Terminating | Should -BeNullOrEmpty
        $r.Output | Should -Be '1.4.2'
    }

    It 'fails naming the host for <Case>, and saves nothing' -ForEach @(
        @{ Case = 'a wrong password'; Mode = 'schema'; Password = 'wrong'; Skip = $true; Category = 'AuthenticationError'; Text = '401' }
        @{ Case = 'an untrusted certificate'; Mode = 'schema'; Password = 'grid-pass'; Skip = $false; Category = 'SecurityError'; Text = 'SkipCertificateCheck' }
        @{ Case = 'an answer without versions'; Mode = 'noversions'; Password = 'grid-pass'; Skip = $true; Category = 'InvalidResult'; Text = 'supported_versions' }
    ) {
        $grid = Start-Grid $Mode

        $r = Set-Latest $grid $Password -Skip:$Skip

        $r.Terminating.Id | Should -BeLike 'WAPIVersionQueryFailed,*'
        $r.Terminating.Category | Should -Be $Category
        $r.Terminating.Message | Should -Match ([regex]::Escape($grid.Host))
        $r.Terminating.Message | Should -Match $Text
        $r.Unchanged | Should -BeTrue
    }
}
