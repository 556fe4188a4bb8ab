<#
.SYNOPSIS
Benchmarks PoshIBWAPI.Config's Import-Module, Get-IBConfig, Set-IBConfig and
Remove-IBConfig at several profile counts, in every store that runs here,
against an empty binary module (the floor) and, optionally, another module
with the same cmdlets.

.DESCRIPTION
Each measurement is one fresh pwsh (Measure-Child.ps1) with a throwaway HOME
holding a copy of a store seeded in its own format. The modules and stores
are interleaved within each repeat, and the order turns from one repeat to
the next. Medians, minima and maxima go to results.csv and results.json in
-OutputDir, with a chart (chart.svg) and the markdown table (results.md)
that is also printed at the end. Nothing is asserted: times on a small
shared machine are noisy, so read medians.

Run through scripts/bench.sh, which builds the module first and provides a
private Secret Service. See docs/benchmark/README.md.

.PARAMETER Counts
Profile counts, comma-separated. Vault stores run only up to -VaultMaxCount.
.PARAMETER Stores
Stores to measure (file, vault-file, keyutils, secret-service, standin); the
file store always runs (the floor ratio and the compared module use it).
.PARAMETER Repeat
Measurements of each module, store and count.
.PARAMETER Calls
Calls of Get-IBConfig timed after the first, for the per-call time.
.PARAMETER MaxCallSeconds
Stops those calls early after this long (a vault that is listed at every
call would take minutes); the results say how many calls ran.
.PARAMETER CompareManifest
The .psd1 of another module with the same cmdlets (Posh-IBWAPI 4.x, say),
measured with the file store beside the others.
.PARAMETER VaultMaxCount
The largest count seeded into vault stores (their seeding and import grow
faster than the file's); raise it to measure vaults at 10,000.
.PARAMETER ReportOnly
Measures nothing: writes results.csv, results.md and chart.svg again from
the samples in -OutputDir's results.json (after a change to the report).
.PARAMETER NoPreloadedImport
Skips the extra import measurement with Microsoft.PowerShell.Utility
already loaded (which shows what the module itself costs at import).
#>
param(
    [string[]] $Counts = @('1', '100', '1000', '10000'),
    [string[]] $Stores = @('file', 'vault-file', 'keyutils', 'secret-service', 'standin'),
    [int] $Repeat = 5,
    [int] $Calls = 1000,
    [double] $MaxCallSeconds = 2,
    [string] $CompareManifest = '',
    [int] $VaultMaxCount = 1000,
    [string] $ModulePath = '',
    [string] $OutputDir = '',
    [int] $ChildTimeoutSeconds = 900,
    [switch] $NoPreloadedImport,
    [switch] $ReportOnly
)

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
$PSStyle.OutputRendering = 'PlainText'
$repo = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
Import-Module (Join-Path $PSScriptRoot 'BenchStores.psm1') -Force
Import-Module (Join-Path $PSScriptRoot 'BenchReport.psm1') -Force
Import-Module (Join-Path $PSScriptRoot 'BenchChart.psm1') -Force

function Split-List {
    # "1,100" or @('1', '100') (pwsh -File passes one string) -> the items.
    param([string[]] $Items)
    @($Items | ForEach-Object { $_ -split ',' } | ForEach-Object { $_.Trim() } |
        Where-Object { $_ })
}

function Write-Progress2 {
    # Progress on stderr-free host output, with the time since the start.
    param([string] $Text)
    $elapsed = $script:RunClock.Elapsed.ToString('mm\:ss')
    [Console]::Out.WriteLine("[$elapsed] $Text")
}

function Initialize-Run {
    <# Checks the options, makes the work folder and the run's identity. #>
    $script:RunClock = [Diagnostics.Stopwatch]::StartNew()
    $script:CountList = @(Split-List $Counts | ForEach-Object { [int]$_ } | Sort-Object -Unique)
    $wanted = @(Split-List $Stores)
    $unknown = @($wanted | Where-Object { $_ -notin (Get-BenchStoreNames) })
    if ($unknown) { throw "unknown store(s): $($unknown -join ', ')" }
    $script:StoreList = @(Get-BenchStoreNames | Where-Object { $_ -eq 'file' -or $_ -in $wanted })

    if (-not $ModulePath) { $script:ModulePath = Join-Path $repo 'out/PoshIBWAPI.Config' }
    if (-not $OutputDir) { $script:OutputDir = Join-Path $repo 'docs/benchmark' }
    if (-not (Test-Path (Join-Path $ModulePath 'PoshIBWAPI.Config.psd1'))) {
        throw "no module at $ModulePath (build it first: scripts/build.sh)"
    }
    $script:ModuleLabels = @{ floor = 'floor'; subject = 'PoshIBWAPI.Config' }
    if ($CompareManifest) {
        $script:CompareManifest = (Resolve-Path $CompareManifest).Path
        # Read, not evaluated: manifests may hold expressions Import-PowerShellDataFile refuses.
        $text = Get-Content -Raw $script:CompareManifest
        $version = '?'
        if ($text -match 'ModuleVersion\s*=\s*[''"]([^''"]+)') { $version = $Matches[1] }
        $name = [IO.Path]::GetFileNameWithoutExtension($script:CompareManifest)
        $script:ModuleLabels.compare = "$name $version"
    }

    $stamp = [DateTime]::UtcNow.ToString('yyyyMMddHHmmss')
    $script:RunId = "$stamp-" + [guid]::NewGuid().ToString('n').Substring(0, 6)
    $script:Template = "ibbench-$($script:RunId)-{0}"
    $script:Work = Join-Path ([IO.Path]::GetTempPath()) "ibwapi-bench-$($script:RunId)"
    New-Item -ItemType Directory -Path $script:Work | Out-Null
    # A copy, so that a build running meanwhile cannot change the module mid-run.
    $copy = Join-Path $script:Work 'module/PoshIBWAPI.Config'
    New-Item -ItemType Directory -Path (Split-Path $copy) | Out-Null
    Copy-Item -Recurse (Resolve-Path $ModulePath).Path $copy
    $script:SourceManifest = Join-Path (Resolve-Path $ModulePath).Path 'PoshIBWAPI.Config.psd1'
    $script:Manifest = Join-Path $copy 'PoshIBWAPI.Config.psd1'
    $script:PwshDll = [Reflection.Assembly]::GetEntryAssembly().Location
    $script:Dotnet = (Get-Process -Id $PID).Path
    $script:Samples = [Collections.Generic.List[object]]::new()
    $script:Problems = [Collections.Generic.List[string]]::new()
}

function Test-StoreAvailable {
    <# Whether a store can run here; says why not once. #>
    param([string] $Store)

    $reason = switch ($Store) {
        'secret-service' {
            if (-not $env:DBUS_SESSION_BUS_ADDRESS) {
                'no D-Bus session (run via scripts/bench.sh)'
            }
            elseif (-not (Get-Command secret-tool -ErrorAction Ignore)) { 'secret-tool is missing' }
        }
        'keyutils' {
            if (-not (Test-Path /proc/keys)) { 'this kernel has no keyring' }
        }
    }
    if ($reason) {
        $script:Problems.Add("store $Store skipped: $reason")
        Write-Progress2 "skipping $Store`: $reason"
        return $false
    }
    $true
}

function Build-FloorModule {
    <# Builds the floor module into the work folder and returns its manifest. #>
    $project = Join-Path $PSScriptRoot 'FloorModule/FloorModule.csproj'
    $out = Join-Path $script:Work 'floor'
    $log = & dotnet build $project -c Release -warnaserror --nologo -v quiet -o $out 2>&1
    if ($LASTEXITCODE -ne 0) { throw "building the floor module failed:`n$($log -join "`n")" }
    Copy-Item (Join-Path $PSScriptRoot 'FloorModule/IBBench.Floor.psd1') $out
    Join-Path $out 'IBBench.Floor.psd1'
}

function New-HomeDir {
    $path = Join-Path $script:Work ('home-' + [guid]::NewGuid().ToString('n'))
    New-Item -ItemType Directory -Path $path | Out-Null
    $path
}

function Invoke-Pwsh {
    <#
    Runs pwsh with Arguments in a clean environment: HOME, no IBWAPI_*
    variable but those in Environment, no telemetry. Returns the exit code;
    output goes to LogPath. Kills it after the timeout.
    #>
    param([string[]] $Arguments, [string] $HomeDir, [hashtable] $Environment, [string] $LogPath)

    $start = [Diagnostics.ProcessStartInfo]::new($script:Dotnet)
    foreach ($a in @($script:PwshDll, '-NoProfile', '-NonInteractive') + $Arguments) {
        $start.ArgumentList.Add($a)
    }
    $start.UseShellExecute = $false
    $start.RedirectStandardOutput = $true
    $start.RedirectStandardError = $true
    foreach ($name in @($start.Environment.Keys)) {
        if ($name -like 'IBWAPI_*' -or $name -eq 'SECRETMANAGEMENT_STANDIN_DIR') {
            $start.Environment.Remove($name) | Out-Null
        }
    }
    $start.Environment['HOME'] = $HomeDir
    $start.Environment['POWERSHELL_TELEMETRY_OPTOUT'] = '1'
    $start.Environment['POWERSHELL_UPDATECHECK'] = 'Off'
    foreach ($name in $Environment.Keys) { $start.Environment[$name] = $Environment[$name] }

    $process = [Diagnostics.Process]::Start($start)
    $stdout = $process.StandardOutput.ReadToEndAsync()
    $stderr = $process.StandardError.ReadToEndAsync()
    if (-not $process.WaitForExit($ChildTimeoutSeconds * 1000)) {
        $process.Kill($true)
        $process.WaitForExit()
    }
    [IO.File]::WriteAllText($LogPath, $stdout.Result + $stderr.Result)
    if ($process.HasExited) { $process.ExitCode } else { -1 }
}

function Invoke-SeedScript {
    <# Runs a seeding script in a child pwsh with HOME and Environment; throws on failure. #>
    param([string] $Script, [string] $HomeDir, [hashtable] $Environment, [string] $What)

    $path = Join-Path $script:Work ('seed-' + [guid]::NewGuid().ToString('n') + '.ps1')
    Set-Content -LiteralPath $path -Value $Script -Encoding utf8
    $log = "$path.log"
    $code = Invoke-Pwsh @('-File', $path) $HomeDir $Environment $log
    if ($code -ne 0) { throw "seeding $What failed (exit $code):`n$(Get-Content -Raw $log)" }
}

function Initialize-Seed {
    <#
    Seeds Store with Count profiles; returns the seed HOME to copy from (for
    keyrings, the keys themselves are the seed and the HOME stays empty).
    #>
    param([string] $Store, [int] $Count)

    $seedHome = New-HomeDir
    $config = Join-Path $seedHome '.config'
    New-Item -ItemType Directory -Path $config | Out-Null
    $vars = Get-StoreEnvironment $Store $script:Template $seedHome $script:StandInModules
    switch ($Store) {
        'file' {
            [IO.File]::WriteAllText((Join-Path $config 'posh-ibwapi.json'),
                (New-ConfigFileText $Count))
        }
        'vault-file' {
            Invoke-SeedScript (Get-ModuleSeedScript $script:Manifest $Count) $seedHome $vars `
                "the vault file with $Count profiles"
        }
        'standin' {
            Invoke-SeedScript (Get-StandInSeedScript $script:Template $Count) $seedHome $vars `
                "the stand-in vault with $Count profiles"
        }
        'keyutils' { Add-KeyutilsSeed $script:Template $Count }
        'secret-service' {
            Add-SecretServiceSeed $script:Template $Count $script:RunId $script:Work
        }
    }
    $seedHome
}

function Clear-Seed {
    <# Removes what seeding Store made outside the work folder (keyring items). #>
    param([string] $Store)

    switch ($Store) {
        'keyutils' { $null = Remove-KeyutilsSeed $script:Template }
        'secret-service' {
            $touched = @('p1', 'bench-new', 'bench-new2')
            Remove-SecretServiceSeed $script:Template $script:RunId $touched
            $left = Test-SecretServiceCount $script:Template
            if ($left -gt 0) { $script:Problems.Add("$left Secret Service item(s) were left") }
        }
    }
}

function Get-Variants {
    <# What runs at Count: the floor, the module in each store, the compared module. #>
    param([int] $Count)

    $list = [Collections.Generic.List[object]]::new()
    $add = { param($module, $store, $preload)
        $list.Add([pscustomobject]@{
                Module = $module; Store = $store; Preload = $preload
                Label = $script:ModuleLabels[$module]
            })
    }
    & $add 'floor' 'none' $false
    if (-not $NoPreloadedImport) {
        & $add 'floor' 'none' $true
        & $add 'subject' 'file' $true
    }
    foreach ($store in $script:StoreList) {
        if ($store -eq 'file' -or $Count -le $VaultMaxCount) { & $add 'subject' $store $false }
    }
    if ($script:CompareManifest) { & $add 'compare' 'file' $false }
    $list
}

function Invoke-Measurement {
    <# One fresh pwsh measuring Variant at Count; adds its samples. #>
    param([object] $Variant, [int] $Count, [int] $Round, [hashtable] $SeedHomes)

    $homeDir = New-HomeDir
    $vars = @{}
    $childArgs = @('-File', (Join-Path $PSScriptRoot 'Measure-Child.ps1'),
        '-Calls', $Calls, '-MaxCallSeconds', $MaxCallSeconds, '-ByName', "p$Count",
        '-CurrentName', 'p1')
    if ($Variant.Module -eq 'floor') {
        $childArgs += @('-Kind', 'floor', '-Manifest', $script:FloorManifest)
    } else {
        $manifest = $script:Manifest
        if ($Variant.Module -eq 'compare') { $manifest = $script:CompareManifest }
        $childArgs += @('-Kind', $Variant.Module, '-Manifest', $manifest,
            '-StoreFile', (Get-StoreFilePath $Variant.Store $homeDir))
        Copy-SeedToHome $Variant.Store $SeedHomes[$Variant.Store] $homeDir
        $vars = Get-StoreEnvironment $Variant.Store $script:Template $homeDir $script:StandInModules
        if ($Variant.Store -eq 'standin') { $childArgs += '-StandIn' }
    }
    if ($Variant.Preload) { $childArgs += '-PreloadUtility' }

    $resultPath = Join-Path $homeDir 'result.json'
    $code = Invoke-Pwsh ($childArgs + @('-ResultPath', $resultPath)) $homeDir $vars "$homeDir.log"
    $label = "$($Variant.Module)/$($Variant.Store) n=$Count #$Round"
    if ($code -ne 0 -or -not (Test-Path $resultPath)) {
        $log = ([IO.File]::ReadAllText("$homeDir.log") -replace '\s+', ' ').Trim()
        $why = if ($code -eq -1) { "killed after $ChildTimeoutSeconds s" } else { "exit $code" }
        $script:Problems.Add("$label`: the child failed ($why): " +
            $log.Substring(0, [Math]::Min(300, $log.Length)))
        return
    }
    $result = Get-Content -Raw $resultPath | ConvertFrom-Json
    Add-ChildSamples $script:Samples $script:Problems $result $Variant $Count $Round $label
    Remove-Item -Recurse -Force $homeDir, "$homeDir.log"
}

function Invoke-CountBlock {
    <# Seeds every store at Count, runs the repeats interleaved, cleans up. #>
    param([int] $Count)

    $variants = Get-Variants $Count
    $seedHomes = @{}
    try {
        foreach ($store in @($variants | Where-Object Store -ne 'none' |
                Select-Object -ExpandProperty Store -Unique)) {
            Write-Progress2 "seeding $store with $Count profile(s)"
            $seedHomes[$store] = Initialize-Seed $store $Count
        }
        for ($round = 1; $round -le $Repeat; $round++) {
            Write-Progress2 "n=$Count round $round/$Repeat ($($variants.Count) measurements)"
            for ($j = 0; $j -lt $variants.Count; $j++) {
                $variant = $variants[($j + $round - 1) % $variants.Count]
                Invoke-Measurement $variant $Count $round $seedHomes
            }
        }
    } finally {
        foreach ($store in $seedHomes.Keys) { Clear-Seed $store }
    }
}

function Export-FromJson {
    <# -ReportOnly: the outputs again from the samples of an earlier run. #>
    $dir = if ($OutputDir) { $OutputDir } else { Join-Path $repo 'docs/benchmark' }
    $saved = Get-Content -Raw (Join-Path $dir 'results.json') | ConvertFrom-Json
    $samples = [Collections.Generic.List[object]]::new()
    foreach ($sample in $saved.samples) { $samples.Add($sample) }
    $meta = [ordered]@{}
    foreach ($p in $saved.meta.PSObject.Properties) { $meta[$p.Name] = $p.Value }
    $summary = Get-Summary $samples
    $svg = Get-ChartSvg $summary ([int[]]$meta.counts) (Get-ChartCaption $meta)
    Export-BenchResults -OutputDir $dir -Meta $meta -Summary $summary -Samples $samples `
        -Problems ([Collections.Generic.List[string]]@($saved.problems)) -Svg $svg
}

function Get-ChartCaption {
    param($Meta)
    "PoshIBWAPI.Config benchmark, $($Meta.date_utc) UTC, $($Meta.machine): " +
    "median of $($Meta.repeats), bar = min to max"
}

if ($ReportOnly) {
    Export-FromJson
    return
}

Initialize-Run
$script:StandInModules = Join-Path $repo 'pwsh/tests/StandIn'
$script:StoreList = @($script:StoreList | Where-Object { Test-StoreAvailable $_ })
Write-Progress2 ("run $($script:RunId): counts $($script:CountList -join ','), stores " +
    "$($script:StoreList -join ','), $Repeat repeats; work folder $($script:Work)")
$script:FloorManifest = Build-FloorModule
try {
    foreach ($count in $script:CountList) { Invoke-CountBlock $count }
} finally {
    $script:RunClock.Stop()
}

$meta = Get-RunMetadata -Repo $repo -RunId $script:RunId -Manifest $script:SourceManifest `
    -CompareManifest $script:CompareManifest -Counts $script:CountList -Stores $script:StoreList `
    -Repeat $Repeat -Calls $Calls -VaultMaxCount $VaultMaxCount -Elapsed $script:RunClock.Elapsed
$summary = Get-Summary $script:Samples
$svg = Get-ChartSvg $summary $script:CountList (Get-ChartCaption $meta)
Export-BenchResults -OutputDir $script:OutputDir -Meta $meta -Summary $summary `
    -Samples $script:Samples -Problems $script:Problems -Svg $svg
Remove-Item -Recurse -Force $script:Work
