# What the benchmark makes of its measurements: samples from each child's
# result, medians with minima and maxima, the budgets, and the files in
# docs/benchmark (results.csv, results.json, results.md, chart.svg).

Set-StrictMode -Version 3.0

$script:Invariant = [Globalization.CultureInfo]::InvariantCulture
$script:StoreOrder = @('file', 'vault-file', 'keyutils', 'secret-service', 'standin')

function Add-Sample {
    param($Samples, $Variant, [int] $Count, [int] $Round, [string] $Operation,
        [string] $Metric, [double] $Value)
    $Samples.Add([pscustomobject]@{
            module = $Variant.Label; store = $Variant.Store; count = $Count; round = $Round
            operation = $Operation; metric = $Metric; value = $Value
        })
}

function Add-ChildSamples {
    <#
    Turns one child's result into samples. A child whose import reported
    errors (a vault that fell back to the file, say) gives none: its figures
    would belong to another store.
    #>
    param($Samples, $Problems, $Result, $Variant, [int] $Count, [int] $Round, [string] $Label)

    foreach ($warning in $Result.ImportWarnings) {
        $Problems.Add("$Label import warning: $warning")
    }
    foreach ($failure in $Result.Failures) { $Problems.Add("$Label`: $failure") }
    if (@($Result.ImportErrors).Count -gt 0) {
        $errors = $Result.ImportErrors -join ' | '
        $Problems.Add("$Label`: import failed, figures dropped: $errors")
        return
    }
    foreach ($op in $Result.Operations.PSObject.Properties) {
        $name = if ($Variant.Preload) { "$($op.Name)-preloaded" } else { $op.Name }
        Add-OperationSamples $Samples $Variant $Count $Round $name $op.Value
    }
    if (-not $Variant.Preload) {
        $memory = [ordered]@{
            working_set_mb = $Result.WorkingSetBytes; private_mb = $Result.PrivateBytes
            managed_heap_mb = $Result.ManagedHeapBytes
        }
        foreach ($metric in $memory.Keys) {
            Add-Sample $Samples $Variant $Count $Round 'import' $metric ($memory[$metric] / 1MB)
        }
    }
}

function Add-OperationSamples {
    param($Samples, $Variant, [int] $Count, [int] $Round, [string] $Name, $Entry)

    $fields = [ordered]@{
        ms = 'Ms'; calls = 'Calls'; written_bytes = 'WrittenBytes'; file_bytes = 'StoreFileBytes'
    }
    foreach ($metric in $fields.Keys) {
        $property = $Entry.PSObject.Properties[$fields[$metric]]
        if ($property -and $null -ne $property.Value) {
            Add-Sample $Samples $Variant $Count $Round $Name $metric $property.Value
        }
    }
    foreach ($pair in @(@('vault_calls', 'VaultCalls'), @('store_ops', 'StoreOps'))) {
        $property = $Entry.PSObject.Properties[$pair[1]]
        if ($property -and $null -ne $property.Value) {
            Add-Sample $Samples $Variant $Count $Round $Name $pair[0] $property.Value.Total
        }
    }
}

function Get-Median {
    param([double[]] $Values)
    $sorted = [double[]]($Values | Sort-Object)
    $middle = [Math]::Floor($sorted.Count / 2)
    if ($sorted.Count % 2) { return $sorted[$middle] }
    ($sorted[$middle - 1] + $sorted[$middle]) / 2
}

function Get-Summary {
    <# Median, minimum, maximum and n of each module, store, count, operation and metric. #>
    param($Samples)

    $Samples | Group-Object module, store, count, operation, metric | ForEach-Object {
        $first = $_.Group[0]
        $values = [double[]]@($_.Group | ForEach-Object value)
        [pscustomobject]@{
            module = $first.module; store = $first.store; count = $first.count
            operation = $first.operation; metric = $first.metric
            median = Get-Median $values
            min = ($values | Measure-Object -Minimum).Minimum
            max = ($values | Measure-Object -Maximum).Maximum
            n = $values.Count
        }
    } | Sort-Object module, store, count, operation, metric
}

function Find-Figure {
    <# One summary row, or $null. #>
    param($Summary, [string] $Module, [string] $Store, [int] $Count, [string] $Operation,
        [string] $Metric = 'ms')
    $Summary | Where-Object {
        $_.module -eq $Module -and $_.store -eq $Store -and $_.count -eq $Count -and
        $_.operation -eq $Operation -and $_.metric -eq $Metric
    } | Select-Object -First 1
}

function Get-MemoryGigabytes {
    $kilobytes = [double]((Get-Content /proc/meminfo -TotalCount 1) -replace '\D', '')
    [Math]::Round($kilobytes / 1MB, 1).ToString($script:Invariant)
}

function Get-RunMetadata {
    <# Where, when and what was measured. #>
    param([string] $Repo, [string] $RunId, [string] $Manifest, [string] $CompareManifest,
        [int[]] $Counts, [string[]] $Stores, [int] $Repeat, [int] $Calls, [int] $VaultMaxCount,
        [TimeSpan] $Elapsed)

    $cpu = (Get-Content /proc/cpuinfo | Where-Object { $_ -like 'model name*' } |
        Select-Object -First 1) -replace '^model name\s*:\s*', ''
    $commit = (& git -C $Repo rev-parse --short HEAD 2>$null)
    $dirty = @(& git -C $Repo status --porcelain -- src pwsh/src pwsh/module Cargo.toml 2>$null)
    [ordered]@{
        run_id = $RunId
        date_utc = [DateTime]::UtcNow.ToString('yyyy-MM-dd HH:mm', $script:Invariant)
        elapsed_seconds = [Math]::Round($Elapsed.TotalSeconds)
        machine = "$([Environment]::ProcessorCount) cores, $cpu, $(Get-MemoryGigabytes) GB"
        kernel = (Get-Content /proc/sys/kernel/osrelease)
        powershell = "$($PSVersionTable.PSVersion)"
        dotnet = [Runtime.InteropServices.RuntimeInformation]::FrameworkDescription
        module = "$Manifest (git $commit$(if ($dirty) { ', with uncommitted changes' }))"
        compared = $CompareManifest
        counts = $Counts; stores = $Stores; repeats = $Repeat; calls_per_call_time = $Calls
        vault_max_count = $VaultMaxCount
    }
}

function Format-Ms {
    <# A time in ms with as many digits as it deserves. #>
    param([double] $Value)
    if ($Value -ge 100) { return $Value.ToString('0', $script:Invariant) }
    if ($Value -ge 10) { return $Value.ToString('0.0', $script:Invariant) }
    if ($Value -ge 1) { return $Value.ToString('0.00', $script:Invariant) }
    $Value.ToString('0.000', $script:Invariant)
}

function Format-Cell {
    <# "median (min–max)" of a summary row, or a dash. #>
    param($Row, [switch] $MedianOnly)
    if (-not $Row) { return '–' }
    if ($MedianOnly -or $Row.n -eq 1) { return Format-Ms $Row.median }
    "$(Format-Ms $Row.median) ($(Format-Ms $Row.min)–$(Format-Ms $Row.max))"
}

function Format-PerCall {
    <# A per-call cell; says how many calls ran when the loop stopped early. #>
    param($Summary, $Series, [int] $Count, [string] $Operation, [int] $Asked)
    $row = Find-Figure $Summary $Series.module $Series.store $Count $Operation
    $calls = Find-Figure $Summary $Series.module $Series.store $Count $Operation 'calls'
    $cell = Format-Cell $row
    if ($row -and $calls -and $calls.min -lt $Asked) { $cell += " [$($calls.min)+ calls]" }
    $cell
}

function Format-Median {
    <# The median of a summary row in ms, or a dash. #>
    param($Row)
    if (-not $Row) { return '–' }
    Format-Ms $Row.median
}

function Format-Number {
    param($Row)
    if (-not $Row) { return '–' }
    $Row.median.ToString('#,0', $script:Invariant)
}

function Format-Ratio {
    param($Numerator, $Denominator)
    if (-not $Numerator -or -not $Denominator -or $Denominator.median -eq 0) { return '–' }
    ($Numerator.median / $Denominator.median).ToString('0.00', $script:Invariant) + '×'
}

function Get-Series {
    <# The (module, store) pairs measured, subject stores first, floor last. #>
    param($Summary)
    $Summary | Where-Object { $_.store -ne 'none' } | Select-Object module, store -Unique |
        Sort-Object @{ Expression = { $_.module -ne 'PoshIBWAPI.Config' } },
        @{ Expression = { $script:StoreOrder.IndexOf($_.store) } }
}

function Get-SeriesName {
    param($Series)
    if ($Series.module -eq 'PoshIBWAPI.Config') { return $Series.store }
    "$($Series.module) ($($Series.store))"
}

function Get-ReadTable {
    <# Markdown: import and reads, per store and count. #>
    param($Summary, [int[]] $Counts, [int] $Calls)

    $lines = @(('| store | profiles | Import-Module | × floor | Get-IBConfig 1st call | ' +
        'Get-IBConfig per call (current) | per call (by name) | Get-IBConfig -List |'),
        '|---|--:|--:|--:|--:|--:|--:|--:|')
    foreach ($series in Get-Series $Summary) {
        foreach ($count in $Counts) {
            $f = { param($op) Find-Figure $Summary $series.module $series.store $count $op }
            $import = & $f 'import'
            if (-not $import) { continue }
            $floor = Find-Figure $Summary 'floor' 'none' $count 'import'
            $lines += "| $(Get-SeriesName $series) | $count | $(Format-Cell $import) | " +
                "$(Format-Ratio $import $floor) | $(Format-Cell (& $f 'get-current-first')) | " +
                "$(Format-PerCall $Summary $series $count 'get-current' $Calls) | " +
                "$(Format-PerCall $Summary $series $count 'get-name' $Calls) | " +
                "$(Format-Cell (& $f 'list')) |"
        }
    }
    $lines
}

function Get-WriteTable {
    <# Markdown: the writing cmdlets, per store and count, with vault calls and bytes. #>
    param($Summary, [int[]] $Counts)

    $lines = @(('| store | profiles | Set-IBConfig new (1st Set) | new (2nd) | edit | ' +
        'Remove-IBConfig (1st) | (2nd) | vault calls: new / edit / remove | ' +
        'store ops logged: new / edit / remove | bytes written by a Set |'),
        '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|')
    foreach ($series in Get-Series $Summary) {
        foreach ($count in $Counts) {
            $f = { param($op, $metric = 'ms')
                Find-Figure $Summary $series.module $series.store $count $op $metric }
            if (-not (& $f 'set-new')) { continue }
            $calls = (@('set-new', 'set-edit', 'remove') |
                ForEach-Object { Format-Number (& $f $_ 'vault_calls') }) -join ' / '
            $ops = (@('set-new', 'set-edit', 'remove') |
                ForEach-Object { Format-Number (& $f $_ 'store_ops') }) -join ' / '
            $lines += "| $(Get-SeriesName $series) | $count | $(Format-Cell (& $f 'set-new')) | " +
                "$(Format-Cell (& $f 'set-new-warm')) | $(Format-Cell (& $f 'set-edit')) | " +
                "$(Format-Cell (& $f 'remove')) | $(Format-Cell (& $f 'remove-warm')) | " +
                "$calls | $ops | $(Format-Number (& $f 'set-new' 'written_bytes')) |"
        }
    }
    $lines
}

function Get-FloorTable {
    <# Markdown: the floor, working sets, and import with the Utility module preloaded. #>
    param($Summary, [int[]] $Counts)

    $lines = @(('| profiles | floor import | floor cmdlet per call | working set: floor | ' +
        'module (file store) | difference | import, Utility preloaded: floor | module | ' +
        '× floor |'),
        '|--:|--:|--:|--:|--:|--:|--:|--:|--:|')
    foreach ($count in $Counts) {
        $floor = { param($op, $metric = 'ms')
            Find-Figure $Summary 'floor' 'none' $count $op $metric }
        $module = { param($op, $metric = 'ms')
            Find-Figure $Summary 'PoshIBWAPI.Config' 'file' $count $op $metric }
        $wsFloor = & $floor 'import' 'working_set_mb'
        $wsModule = & $module 'import' 'working_set_mb'
        $difference = if ($wsFloor -and $wsModule) {
            ($wsModule.median - $wsFloor.median).ToString('0.0', $script:Invariant)
        } else { '–' }
        $lines += "| $count | $(Format-Cell (& $floor 'import')) | " +
            "$(Format-Cell (& $floor 'floor-call')) | $(Format-Cell $wsFloor -MedianOnly) | " +
            "$(Format-Cell $wsModule -MedianOnly) | $difference | " +
            "$(Format-Cell (& $floor 'import-preloaded')) | " +
            "$(Format-Cell (& $module 'import-preloaded')) | " +
            "$(Format-Ratio (& $module 'import-preloaded') (& $floor 'import-preloaded')) |"
    }
    $lines
}

function Get-BudgetRows {
    <# Each budget: the figure it is about, the limit, and where it stands (no assertion). #>
    param($Summary)

    $m = 'PoshIBWAPI.Config'
    $rows = [Collections.Generic.List[object]]::new()
    $add = { param($budget, $figure, $ok)
        $state = if ($null -eq $ok) { 'not measured' } elseif ($ok) { 'within' } else { 'over' }
        $rows.Add([pscustomobject]@{ budget = $budget; figure = $figure; state = $state })
    }

    $import = Find-Figure $Summary $m 'file' 1000 'import'
    $floor = Find-Figure $Summary 'floor' 'none' 1000 'import'
    $ratio = if ($import -and $floor) { $import.median / $floor.median }
    & $add 'Import-Module, 1,000 profiles in the file ≤ 1.3× floor' `
        "$(Format-Ratio $import $floor) ($(Format-Median $import) vs $(Format-Median $floor) ms)" `
        $(if ($null -ne $ratio) { $ratio -le 1.3 })

    foreach ($op in 'set-new', 'set-edit') {
        $at1k = Find-Figure $Summary $m 'file' 1000 $op
        $at10k = Find-Figure $Summary $m 'file' 10000 $op
        & $add "Set-IBConfig ($op), 1,000 profiles ≤ 10 ms" "$(Format-Median $at1k) ms" `
            $(if ($at1k) { $at1k.median -le 10 })
        $growth = if ($at1k -and $at10k) { $at10k.median / $at1k.median }
        & $add "Set-IBConfig ($op), 10,000 ≤ 3× its 1,000 figure" `
            $(if ($null -ne $growth) { "$($growth.ToString('0.0', $script:Invariant))× " +
                "($(Format-Median $at10k) ms)" } else { '–' }) `
            $(if ($null -ne $growth) { $growth -le 3 })
    }

    $byName = @($Summary | Where-Object { $_.module -eq $m -and $_.operation -eq 'get-name' -and
            $_.metric -eq 'ms' })
    $worst = $byName | Sort-Object median -Descending | Select-Object -First 1
    & $add 'Get-IBConfig by name < 0.1 ms per call, any count and store' `
        $(if ($worst) { "worst median $(Format-Ms $worst.median) ms ($($worst.store), " +
            "$($worst.count))" } else { '–' }) $(if ($worst) { $worst.median -lt 0.1 })

    foreach ($store in 'standin', 'vault-file', 'keyutils', 'secret-service') {
        $metric = if ($store -eq 'standin') { 'vault_calls' } else { 'store_ops' }
        $one = Find-Figure $Summary $m $store 1 'set-new' $metric
        $many = Find-Figure $Summary $m $store 1000 'set-new' $metric
        & $add "Vault calls of one Set-IBConfig equal at 1 and 1,000 ($store, $metric)" `
            "$(Format-Number $one) / $(Format-Number $many)" `
            $(if ($one -and $many) { $one.median -eq $many.median })
    }

    $vault = Find-Figure $Summary $m 'vault-file' 1000 'import'
    & $add 'Import, 1,000 profiles, encrypted vault file ≤ 2× file store' `
        "$(Format-Ratio $vault $import) ($(Format-Median $vault) ms)" `
        $(if ($vault -and $import) { $vault.median -le 2 * $import.median })

    $wsModule = Find-Figure $Summary $m 'file' 10000 'import' 'working_set_mb'
    $wsFloor = Find-Figure $Summary 'floor' 'none' 10000 'import' 'working_set_mb'
    $delta = if ($wsModule -and $wsFloor) { $wsModule.median - $wsFloor.median }
    & $add 'Working set after import, 10,000 profiles ≤ floor + 20 MB' `
        $(if ($null -ne $delta) { "+$($delta.ToString('0.0', $script:Invariant)) MB " +
            "($($wsModule.median.ToString('0', $script:Invariant)) vs " +
            "$($wsFloor.median.ToString('0', $script:Invariant)) MB)" } else { '–' }) `
        $(if ($null -ne $delta) { $delta -le 20 })
    $rows
}

function Get-Markdown {
    <# The tables the lead can paste into the README. #>
    param($Meta, $Summary, $Problems)

    $counts = [int[]]$Meta.counts
    $lines = @(
        ("Measured $($Meta.date_utc) UTC on $($Meta.machine); PowerShell $($Meta.powershell), " +
        "$($Meta.dotnet); $($Meta.repeats) repeats, median (min–max) in ms; per-call times " +
        "are the mean of $($Meta.calls_per_call_time) calls after the first. Run took " +
        "$($Meta.elapsed_seconds) s."), '',
        '**Import and reads**', '') +
        (Get-ReadTable $Summary $counts $Meta.calls_per_call_time) + @('',
        ('**Writes** (vault calls: the SecretManagement stand-in''s count; store ops: the ' +
        'vault or file operations the core logged)'), '') + (Get-WriteTable $Summary $counts) +
        @('', '**Floor, memory (MB) and import without the Utility autoload**', '') +
        (Get-FloorTable $Summary $counts) + @('', '**Budgets**', '',
        '| budget | this run | |', '|---|---|---|')
    foreach ($row in Get-BudgetRows $Summary) {
        $lines += "| $($row.budget) | $($row.figure) | $($row.state) |"
    }
    if ($Problems.Count) {
        $lines += @('', '**Problems in this run**', '') + @($Problems | ForEach-Object { "- $_" })
    }
    $lines
}

function Export-BenchResults {
    <# Writes results.csv, results.json, results.md and chart.svg; prints the markdown. #>
    param([string] $OutputDir, $Meta, $Summary, $Samples, $Problems, [string[]] $Svg)

    New-Item -ItemType Directory -Force -Path $OutputDir | Out-Null
    $Summary | Select-Object module, store, count, operation, metric,
        @{ n = 'median'; e = { [Math]::Round($_.median, 4) } },
        @{ n = 'min'; e = { [Math]::Round($_.min, 4) } },
        @{ n = 'max'; e = { [Math]::Round($_.max, 4) } }, n |
        Export-Csv -Path (Join-Path $OutputDir 'results.csv') -NoTypeInformation -UseQuotes AsNeeded
    [ordered]@{
        meta = $Meta; summary = @($Summary); samples = @($Samples); problems = @($Problems)
    } | ConvertTo-Json -Depth 6 |
        Set-Content -Path (Join-Path $OutputDir 'results.json') -Encoding utf8
    $markdown = Get-Markdown $Meta $Summary $Problems
    Set-Content -Path (Join-Path $OutputDir 'results.md') -Value $markdown -Encoding utf8
    Set-Content -Path (Join-Path $OutputDir 'chart.svg') -Encoding utf8 -Value $Svg
    $markdown | ForEach-Object { [Console]::Out.WriteLine($_) }
    [Console]::Out.WriteLine(
        "`nwrote results.csv, results.json, results.md, chart.svg to $OutputDir")
}

Export-ModuleMember -Function Add-ChildSamples, Get-Summary, Get-RunMetadata, Export-BenchResults,
    Get-Markdown, Find-Figure, Get-Median
