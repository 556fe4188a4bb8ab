# Runs every *.Tests.ps1 beside this file with Pester 5.7.1 from the NuGet
# cache, against the built module folder, and ends with one summary line
# "N passed, N failed, N skipped". Exit code 1 when anything failed.
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [string[]] $Tag,
    [string[]] $FullNameFilter
)
$ErrorActionPreference = 'Stop'

$packages = (& dotnet nuget locals global-packages --list) -replace '^global-packages:\s*', ''
Import-Module (Join-Path $packages.Trim() 'pester/5.7.1/tools/Pester.psd1') -Force

$env:IBCONFIG_TEST_MODULE = (Resolve-Path $ModulePath).Path
$config = New-PesterConfiguration
$config.Run.Path = $PSScriptRoot
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Detailed'
if ($Tag) { $config.Filter.Tag = $Tag -split ',' }
# From bash, several filters come as one comma-separated argument.
if ($FullNameFilter) { $config.Filter.FullName = $FullNameFilter -split ',' }

$result = Invoke-Pester -Configuration $config
"$($result.PassedCount) passed, $($result.FailedCount) failed, $($result.SkippedCount) skipped"
if ($result.FailedCount -gt 0 -or $result.Result -ne 'Passed') { exit 1 }
