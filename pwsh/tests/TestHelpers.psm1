# Helpers for the Pester tests: every case runs in a fresh pwsh process with
# its own throwaway HOME and no IBWAPI_* variables unless the case sets them,
# because the module decides its store once, at import.

$script:ModulePath = $env:IBCONFIG_TEST_MODULE
$script:FixtureDir = Join-Path $PSScriptRoot '../../tests/fixtures'

function New-TestHome {
    <# A new empty folder to use as HOME. #>
    $path = Join-Path ([IO.Path]::GetTempPath()) ('ibconfig-test-' + [guid]::NewGuid())
    New-Item -ItemType Directory -Path $path | Out-Null
    $path
}

function Get-ConfigPath {
    <# Where the module keeps posh-ibwapi.json for a given HOME on Linux. #>
    param([Parameter(Mandatory)] [string] $HomeDir)
    Join-Path $HomeDir '.config/posh-ibwapi.json'
}

function Copy-Fixture {
    <# Puts a fixture file in place as the config file of HomeDir. #>
    param([Parameter(Mandatory)] [string] $Name, [Parameter(Mandatory)] [string] $HomeDir)
    $target = Get-ConfigPath $HomeDir
    New-Item -ItemType Directory -Force -Path (Split-Path $target) | Out-Null
    Copy-Item (Join-Path $script:FixtureDir $Name) $target
    $target
}

function Get-FixturePath {
    param([Parameter(Mandatory)] [string] $Name)
    Join-Path $script:FixtureDir $Name
}

function Start-FreshPwsh {
    <#
    Starts Script in a new pwsh process (see Invoke-FreshPwsh) and returns a
    handle for Complete-FreshPwsh, so that several can run at once.
    #>
    param(
        [Parameter(Mandatory)] [string] $Script,
        [string] $Before = '',
        [string] $HomeDir = (New-TestHome),
        [hashtable] $Environment = @{},
        [switch] $NoImport,
        [string] $ImportArguments = ''
    )

    $work = New-TestHome
    $resultPath = Join-Path $work 'result.xml'
    $scriptPath = Join-Path $work 'case.ps1'
    $import = if ($NoImport) { '' } else {
        # The script block matters: a bare Import-Module 2>&1 misses the
        # errors its .psm1 writes.
        "& { Import-Module '$($script:ModulePath)' $ImportArguments } 3>&1 2>&1 4>&1 |" +
        ' ForEach-Object { $imported.Add($_) }'
    }
    Set-Content -Path $scriptPath -Encoding utf8 -Value (
        New-CaseScript -Script $Script -Before $Before -Import $import -ResultPath $resultPath)

    $pwshDll = [Reflection.Assembly]::GetEntryAssembly().Location
    $start = [Diagnostics.ProcessStartInfo]::new((Get-Process -Id $PID).Path)
    foreach ($a in @($pwshDll, '-NoProfile', '-NonInteractive', '-File', $scriptPath)) {
        $start.ArgumentList.Add($a)
    }
    $start.RedirectStandardOutput = $true
    $start.RedirectStandardError = $true
    $start.UseShellExecute = $false
    foreach ($name in @($start.Environment.Keys)) {
        if ($name -like 'IBWAPI_*') { $start.Environment.Remove($name) | Out-Null }
    }
    $start.Environment['HOME'] = $HomeDir
    foreach ($name in $Environment.Keys) { $start.Environment[$name] = $Environment[$name] }

    $process = [Diagnostics.Process]::Start($start)
    [pscustomobject]@{
        Process = $process; Stdout = $process.StandardOutput.ReadToEndAsync()
        Stderr = $process.StandardError.ReadToEndAsync(); Work = $work
        ResultPath = $resultPath; HomeDir = $HomeDir
    }
}

function Complete-FreshPwsh {
    <# Waits for a Start-FreshPwsh process and returns what happened in it. #>
    param([Parameter(Mandatory, ValueFromPipeline)] $Run)
    process {
        $Run.Process.WaitForExit()
        if (-not (Test-Path $Run.ResultPath)) {
            throw "The child pwsh wrote no result (exit $($Run.Process.ExitCode)).`n" +
                "$($Run.Stdout.Result)`n$($Run.Stderr.Result)"
        }
        $result = Import-Clixml $Run.ResultPath
        Remove-Item -Recurse -Force $Run.Work
        $result | Add-Member -NotePropertyName HomeDir -NotePropertyValue $Run.HomeDir -PassThru
    }
}

function Invoke-FreshPwsh {
    <#
    Runs Script in a new pwsh process and returns what happened:
    ImportWarnings, ImportErrors (Id, Category, Message), Output, Warnings,
    Errors, Verbose and Terminating (an object with Id, Category, Message,
    Target). The module is imported first unless -NoImport; Script runs
    after it in the same scope, so it can use anything the import defined.
    Before runs ahead of the import (to set up a vault, say); its output is
    dropped.
    #>
    param(
        [Parameter(Mandatory)] [string] $Script,
        [string] $Before = '',
        [string] $HomeDir = (New-TestHome),
        [hashtable] $Environment = @{},
        [switch] $NoImport,
        [string] $ImportArguments = ''
    )
    $PSBoundParameters['HomeDir'] = $HomeDir
    Start-FreshPwsh @PSBoundParameters | Complete-FreshPwsh
}

function New-CaseScript([string] $Script, [string] $Before, [string] $Import, [string] $ResultPath) {
    @"
`$ErrorActionPreference = 'Continue'
`$imported = [Collections.Generic.List[object]]::new()
`$streamed = [Collections.Generic.List[object]]::new()
`$terminating = `$null
& { $Before } | Out-Null
$Import
try {
    & { $Script } 2>&1 3>&1 4>&1 | ForEach-Object { `$streamed.Add(`$_) }
} catch {
    `$terminating = [pscustomobject]@{
        Id = `$_.FullyQualifiedErrorId; Category = "`$(`$_.CategoryInfo.Category)"
        Message = `$_.Exception.Message; Target = `$_.TargetObject
        ExceptionType = `$_.Exception.GetType().FullName
    }
}
function Split-Stream(`$items) {
    `$r = @{ Output = @(); Warnings = @(); Errors = @(); Verbose = @() }
    foreach (`$i in `$items) {
        if (`$i -is [Management.Automation.WarningRecord]) { `$r.Warnings += `$i.Message }
        elseif (`$i -is [Management.Automation.VerboseRecord]) { `$r.Verbose += `$i.Message }
        elseif (`$i -is [Management.Automation.ErrorRecord]) {
            `$r.Errors += [pscustomobject]@{
                Id = `$i.FullyQualifiedErrorId; Category = "`$(`$i.CategoryInfo.Category)"
                Message = `$i.Exception.Message; Target = `$i.TargetObject
            }
        }
        else { `$r.Output += `$i }
    }
    `$r
}
`$i = Split-Stream `$imported
`$b = Split-Stream `$streamed
[pscustomobject]@{
    ImportWarnings = `$i.Warnings; ImportErrors = `$i.Errors; ImportVerbose = `$i.Verbose
    Output = `$b.Output; Warnings = `$b.Warnings; Errors = `$b.Errors; Verbose = `$b.Verbose
    Terminating = `$terminating
} | Export-Clixml -Path '$ResultPath' -Depth 6
"@
}

function New-StandInEnvironment {
    <#
    Environment for a child pwsh that finds the SecretManagement stand-in
    module, with its vault data in a new folder. Extra entries are added.
    #>
    param([hashtable] $Extra = @{})
    $standIn = Join-Path $PSScriptRoot 'StandIn'
    $envVars = @{
        PSModulePath = $standIn + [IO.Path]::PathSeparator + $env:PSModulePath
        SECRETMANAGEMENT_STANDIN_DIR = (New-TestHome)
    }
    foreach ($key in $Extra.Keys) { $envVars[$key] = $Extra[$key] }
    $envVars
}

function Get-VaultFixtureScript {
    <#
    PowerShell that registers stand-in vault Name (with VaultParameters
    Options) and fills it with the secrets of vault.4x-default-template.json.
    #>
    param([string] $Name = 'TestVault', [string] $Options = '@{}', [switch] $Empty)
    $fixture = Join-Path $script:FixtureDir 'vault.4x-default-template.json'
    $fill = if ($Empty) { '' } else {
        "`$secrets = Get-Content '$fixture' -Raw | ConvertFrom-Json`n" +
        "foreach (`$p in `$secrets.PSObject.Properties) { Set-Secret -Vault '$Name' -Name `$p.Name -Secret `$p.Value }"
    }
    @"
Import-Module Microsoft.PowerShell.SecretManagement
Register-SecretVault -Name '$Name' -ModuleName StandIn -VaultParameters $Options
`$opts = $Options
if (`$opts.Password) { Unlock-SecretVault -Name '$Name' -Password (ConvertTo-SecureString `$opts.Password -AsPlainText -Force) }
$fill
"@
}

Export-ModuleMember -Function New-TestHome, Get-ConfigPath, Copy-Fixture, Get-FixturePath,
    Invoke-FreshPwsh, Start-FreshPwsh, Complete-FreshPwsh, New-StandInEnvironment, Get-VaultFixtureScript
