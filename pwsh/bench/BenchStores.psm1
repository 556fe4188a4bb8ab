# The stores the benchmark measures: how each is seeded with N profiles in
# its own format, how a measurement gets a fresh copy of it, and how every
# keyring item the benchmark made is removed again.
#
# Every seeded profile is the same: p<i> on host gm<i>.example.test, WAPI
# 2.12, user admin, password bench-password, both flags false; p1 is current.

Set-StrictMode -Version 3.0

$script:Password = 'bench-password'
$script:VaultPassword = 'bench-vault-password'
$script:StandInVault = 'IBBench'
$script:KeyPrefix = 'posh-ibwapi:'

# Names of the stores; vault stores set IBWAPI_VAULT_NAME.
$script:VaultNames = @{
    'vault-file' = '[file]'
    'keyutils' = '[keyring]keyutils'
    'secret-service' = '[keyring]secret-service'
    'standin' = $script:StandInVault
}

function Get-BenchStoreNames {
    <# Every store the benchmark knows, file store first. #>
    @('file', 'vault-file', 'keyutils', 'secret-service', 'standin')
}

function New-ConfigFileText {
    <#
    posh-ibwapi.json with Count profiles, laid out as PowerShell 7's
    ConvertTo-Json writes it for Posh-IBWAPI 4.x (passwords as Base64 UTF-16).
    #>
    param([Parameter(Mandatory)] [int] $Count)

    $password = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($script:Password))
    $text = [Text.StringBuilder]::new(320 * $Count + 64)
    [void]$text.Append("{`n  `"CurrentProfile`": `"p1`",`n  `"Profiles`": {")
    for ($i = 1; $i -le $Count; $i++) {
        $separator = if ($i -gt 1) { ',' } else { '' }
        [void]$text.Append("$separator`n    `"p$i`": {`n").
            Append("      `"WAPIHost`": `"gm$i.example.test`",`n").
            Append("      `"WAPIVersion`": `"2.12`",`n").
            Append("      `"Credential`": {`n        `"Username`": `"admin`",`n").
            Append("        `"Password`": `"$password`",`n        `"IsBase64`": true`n      },`n").
            Append("      `"SkipCertificateCheck`": false,`n      `"NoSession`": false`n    }")
    }
    [void]$text.Append("`n  }`n}")
    $text.ToString()
}

function Get-SecretValue {
    <# The secret of profile p<Index> as 4.x writes it: one compact JSON object. #>
    param([int] $Index)

    $current = if ($Index -eq 1) { 'true' } else { 'false' }
    '{"WAPIHost":"gm' + $Index + '.example.test","WAPIVersion":"2.12","Credential":' +
    '{"Username":"admin","Password":"' + $script:Password + '"},' +
    '"SkipCertificateCheck":false,"NoSession":false,"Current":' + $current + '}'
}

function Get-SecretName {
    <# The secret name of a profile under a template (every {0} replaced). #>
    param([string] $Template, [string] $ProfileName)
    $Template.Replace('{0}', $ProfileName)
}

function Get-StoreEnvironment {
    <#
    The variables a child needs for Store: the vault's name, its password,
    the run's secret template, and for the stand-in its module and folder.
    #>
    param(
        [Parameter(Mandatory)] [string] $Store,
        [string] $Template,
        [string] $HomeDir,
        [string] $StandInModules
    )

    $vars = @{}
    if ($Store -eq 'file') { return $vars }
    $vars['IBWAPI_VAULT_NAME'] = $script:VaultNames[$Store]
    $vars['IBWAPI_VAULT_SECRET_TEMPLATE'] = $Template
    if ($Store -eq 'vault-file') { $vars['IBWAPI_VAULT_PASS'] = $script:VaultPassword }
    if ($Store -eq 'standin') {
        $vars['PSModulePath'] = $StandInModules + [IO.Path]::PathSeparator + $env:PSModulePath
        $vars['SECRETMANAGEMENT_STANDIN_DIR'] = Join-Path $HomeDir 'standin'
    }
    $vars
}

function Get-StoreFilePath {
    <# The file a store keeps its profiles in under HomeDir, or '' (keyrings). #>
    param([string] $Store, [string] $HomeDir)

    switch ($Store) {
        'file' { Join-Path $HomeDir '.config/posh-ibwapi.json' }
        'vault-file' { Join-Path $HomeDir '.config/posh-ibwapi.vault' }
        'standin' {
            $leaf = 'vault-' + [Uri]::EscapeDataString($script:StandInVault.ToLowerInvariant())
            Join-Path $HomeDir "standin/$leaf.json"
        }
        default { '' }
    }
}

function Copy-SeedToHome {
    <#
    Puts a copy of a seeded store in a fresh HOME: the files of the file
    store, the vault file and the stand-in's folder (keyrings are shared).
    #>
    param([string] $Store, [string] $SeedHome, [string] $HomeDir)

    New-Item -ItemType Directory -Force -Path (Join-Path $HomeDir '.config') | Out-Null
    switch ($Store) {
        'file' { Copy-Item (Get-StoreFilePath 'file' $SeedHome) (Join-Path $HomeDir '.config') }
        'vault-file' {
            Copy-Item (Get-StoreFilePath 'vault-file' $SeedHome) (Join-Path $HomeDir '.config')
        }
        'standin' { Copy-Item -Recurse (Join-Path $SeedHome 'standin') $HomeDir }
    }
}

function Write-StandInSeed {
    <#
    Fills a stand-in vault's data file (SECRETMANAGEMENT_STANDIN_DIR) in the
    stand-in's own format: secrets sorted ignoring case, as Set-Secret of a
    string stores them. The vault must be registered already.
    #>
    param([string] $Folder, [string] $Template, [int] $Count)

    $names = [Collections.Generic.List[string]]::new()
    $values = @{}
    for ($i = 1; $i -le $Count; $i++) {
        $name = Get-SecretName $Template "p$i"
        $names.Add($name)
        $values[$name] = Get-SecretValue $i
    }
    $names.Sort([StringComparer]::OrdinalIgnoreCase)

    $secrets = [ordered]@{}
    foreach ($name in $names) {
        $secrets[$name] = [ordered]@{ Type = 'String'; Value = $values[$name]; Metadata = @{} }
    }
    $document = [ordered]@{ Secrets = $secrets; Deleted = @() }
    $leaf = 'vault-' + [Uri]::EscapeDataString($script:StandInVault.ToLowerInvariant()) + '.json'
    $json = ConvertTo-Json -InputObject $document -Depth 10
    [IO.File]::WriteAllText((Join-Path $Folder $leaf), $json, [Text.UTF8Encoding]::new($false))
}

function Get-StandInSeedScript {
    <# What a child runs to register the stand-in vault and seed it. #>
    param([string] $Template, [int] $Count)

    @"
Import-Module Microsoft.PowerShell.SecretManagement
Import-Module '$PSCommandPath'
Register-SecretVault -Name '$($script:StandInVault)' -ModuleName StandIn
Write-StandInSeed -Folder `$env:SECRETMANAGEMENT_STANDIN_DIR -Template '$Template' -Count $Count
`$null = Get-StandInCallCount -Reset
"@
}

function Get-ModuleSeedScript {
    <#
    What a child runs to seed a vault through the module itself (the
    encrypted vault file has no other writer): p1 current, then the others.
    #>
    param([string] $Manifest, [int] $Count)

    @"
`$ErrorActionPreference = 'Stop'
`$ConfirmPreference = 'None'
Import-Module '$Manifest'
`$password = ConvertTo-SecureString '$($script:Password)' -AsPlainText -Force
`$credential = [pscredential]::new('admin', `$password)
for (`$i = $Count; `$i -ge 1; `$i--) {
    Set-IBConfig -ProfileName "p`$i" -WAPIHost "gm`$i.example.test" -WAPIVersion '2.12' ``
        -Credential `$credential -NoSwitchProfile:(`$i -ne 1)
}
"@
}

function Add-KeyringInterop {
    <# Loads the libkeyutils calls used to seed and clean the kernel keyring. #>
    if ('IBBench.KernelKeyring' -as [type]) { return }
    Add-Type -Path (Join-Path $PSScriptRoot 'KernelKeyring.cs')
}

function Add-KeyutilsSeed {
    <# One user key in @u per profile, described and permitted as the module makes them. #>
    param([string] $Template, [int] $Count)

    Add-KeyringInterop
    for ($i = 1; $i -le $Count; $i++) {
        $description = $script:KeyPrefix + (Get-SecretName $Template "p$i")
        [void][IBBench.KernelKeyring]::Add($description, (Get-SecretValue $i))
    }
}

function Remove-KeyutilsSeed {
    <# Invalidates every key in @u whose secret name fits the run's template; returns how many. #>
    param([string] $Template)

    Add-KeyringInterop
    $prefix = $script:KeyPrefix + $Template.Substring(0, $Template.IndexOf('{0}'))
    [IBBench.KernelKeyring]::RemoveByPrefix($prefix)
}

function Add-SecretServiceSeed {
    <#
    One item per profile in the default collection, made by libsecret's
    secret-tool as the module makes them (application, name, label), plus an
    attribute naming the run so that cleaning up finds exactly these items.
    #>
    param([string] $Template, [int] $Count, [string] $RunId, [string] $WorkDir)

    $list = Join-Path $WorkDir 'secret-service-seed.tsv'
    $lines = for ($i = 1; $i -le $Count; $i++) {
        (Get-SecretName $Template "p$i") + "`t" + (Get-SecretValue $i)
    }
    [IO.File]::WriteAllLines($list, [string[]]$lines)
    $loop = 'while IFS=$''\t'' read -r name value; do printf %s "$value" | ' +
        'secret-tool store --label="$name" application posh-ibwapi name "$name" ' +
        'ibwapi-bench "$1" || exit 1; done < "$2"'
    & bash -c $loop bash $RunId $list
    if ($LASTEXITCODE -ne 0) { throw "secret-tool could not store the seed items" }
}

function Remove-SecretServiceSeed {
    <#
    Removes the run's items: those carrying its attribute, and by name those
    the module rewrote or made (the edited current profile, new profiles).
    #>
    param([string] $Template, [string] $RunId, [string[]] $ProfileNames)

    & secret-tool clear ibwapi-bench $RunId 2>$null
    foreach ($name in $ProfileNames) {
        & secret-tool clear application posh-ibwapi name (Get-SecretName $Template $name) 2>$null
    }
}

function Test-SecretServiceCount {
    <# How many items of the module the run's template has left in the Secret Service. #>
    param([string] $Template)

    $prefix = $Template.Substring(0, $Template.IndexOf('{0}'))
    $found = & secret-tool search --all application posh-ibwapi 2>&1 |
        Where-Object { "$_" -like "attribute.name = $prefix*" }
    @($found).Count
}

Export-ModuleMember -Function Get-BenchStoreNames, New-ConfigFileText, Get-SecretValue,
    Get-SecretName, Get-StoreEnvironment, Get-StoreFilePath, Copy-SeedToHome,
    Write-StandInSeed, Get-StandInSeedScript, Get-ModuleSeedScript, Add-KeyutilsSeed,
    Remove-KeyutilsSeed, Add-SecretServiceSeed, Remove-SecretServiceSeed, Test-SecretServiceCount
