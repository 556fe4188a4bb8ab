# The benchmark's chart, drawn as SVG from the summary: one panel per
# operation, cost against profile count on log-log scales, one line per
# store (and compared module), the floor as a dashed line where it applies.
# Each point is a median; the vertical bar through it spans min to max.

Set-StrictMode -Version 3.0

$script:Invariant = [Globalization.CultureInfo]::InvariantCulture
$script:PanelWidth = 400
$script:PanelHeight = 270
$script:Columns = 3
$script:Margin = @{ Left = 62; Right = 14; Top = 34; Bottom = 42 }
$script:LegendHeight = 64

$script:Panels = @(
    @{ Title = 'Import-Module (ms)'; Operation = 'import'; Metric = 'ms'; Floor = 'import' }
    @{ Title = 'Set-IBConfig, new profile, 1st Set (ms)'; Operation = 'set-new'; Metric = 'ms' }
    @{ Title = 'Set-IBConfig, edit (ms)'; Operation = 'set-edit'; Metric = 'ms' }
    @{ Title = 'Remove-IBConfig, 1st (ms)'; Operation = 'remove'; Metric = 'ms' }
    @{ Title = 'Get-IBConfig -List (ms)'; Operation = 'list'; Metric = 'ms' }
    @{ Title = 'Get-IBConfig by name, per call (ms)'; Operation = 'get-name'; Metric = 'ms'
        Floor = 'floor-call' }
    @{ Title = 'Get-IBConfig current, per call (ms)'; Operation = 'get-current'; Metric = 'ms'
        Floor = 'floor-call' }
    @{ Title = 'Working set after import (MB)'; Operation = 'import'; Metric = 'working_set_mb'
        Floor = 'import' }
    @{ Title = 'Bytes written by one Set-IBConfig (new)'; Operation = 'set-new'
        Metric = 'written_bytes' }
)

$script:Colors = @{
    'file' = '#1f77b4'; 'vault-file' = '#ff7f0e'; 'keyutils' = '#2ca02c'
    'secret-service' = '#d62728'; 'standin' = '#9467bd'; 'compare' = '#8c564b'
    'floor' = '#555555'
}

function Format-Svg {
    param([double] $Value)
    $Value.ToString('0.#', $script:Invariant)
}

function Format-Tick {
    <# A power of ten as a short label: 0.01, 1, 100, 10k, 1M. #>
    param([int] $Exponent)
    $value = [Math]::Pow(10, $Exponent)
    if ($value -ge 1e6) { return ($value / 1e6).ToString('0', $script:Invariant) + 'M' }
    if ($value -ge 1e4) { return ($value / 1e3).ToString('0', $script:Invariant) + 'k' }
    $value.ToString('0.######', $script:Invariant)
}

function ConvertTo-XmlText {
    param([string] $Text)
    [Security.SecurityElement]::Escape($Text)
}

function Get-ChartSeries {
    <# Lines of one panel: name, color, dashed, and points (count, median, min, max). #>
    param($Summary, $Panel)

    $rows = @($Summary | Where-Object {
            $_.operation -eq $Panel.Operation -and $_.metric -eq $Panel.Metric -and
            $_.store -ne 'none' -and $_.median -gt 0
        })
    $order = @('file', 'vault-file', 'keyutils', 'secret-service', 'standin')
    $groups = $rows | Group-Object module, store | Sort-Object @{
        Expression = { $_.Group[0].module -ne 'PoshIBWAPI.Config' } }, @{
        Expression = { $order.IndexOf($_.Group[0].store) } }
    $series = foreach ($group in $groups) {
        $first = $group.Group[0]
        $isSubject = $first.module -eq 'PoshIBWAPI.Config'
        [pscustomobject]@{
            Name = if ($isSubject) { $first.store } else { "$($first.module) ($($first.store))" }
            Color = if ($isSubject) { $script:Colors[$first.store] } else { $script:Colors.compare }
            Dashed = $false
            Points = @($group.Group | Sort-Object count)
        }
    }
    if ($Panel.ContainsKey('Floor')) {
        $floor = @($Summary | Where-Object {
                $_.module -eq 'floor' -and $_.operation -eq $Panel.Floor -and
                $_.metric -eq $Panel.Metric -and $_.median -gt 0
            } | Sort-Object count)
        if ($floor) {
            $series = @($series) + [pscustomobject]@{
                Name = 'floor'; Color = $script:Colors.floor; Dashed = $true; Points = $floor
            }
        }
    }
    @($series)
}

function Get-LogRange {
    <# Whole powers of ten around the values: (low exponent, high exponent). #>
    param([double[]] $Values)
    $low = [Math]::Floor([Math]::Log10(($Values | Measure-Object -Minimum).Minimum))
    $high = [Math]::Ceiling([Math]::Log10(($Values | Measure-Object -Maximum).Maximum))
    if ($high -le $low) { $high = $low + 1 }
    @([int]$low, [int]$high)
}

function Get-PanelSvg {
    <# One panel at (X, Y): frame, grid, axes, and its series. #>
    param($Panel, $Series, [int[]] $XRange, [double] $X, [double] $Y)

    $m = $script:Margin
    $w = $script:PanelWidth - $m.Left - $m.Right
    $h = $script:PanelHeight - $m.Top - $m.Bottom
    $values = @($Series | ForEach-Object { $_.Points } | ForEach-Object { $_.min; $_.max } |
        Where-Object { $_ -gt 0 })
    $yRange = Get-LogRange $values
    $px = { param($count) $X + $m.Left + $w * ([Math]::Log10($count) - $XRange[0]) /
        ($XRange[1] - $XRange[0]) }
    $py = { param($value) $Y + $m.Top + $h - $h * ([Math]::Log10($value) - $yRange[0]) /
        ($yRange[1] - $yRange[0]) }

    $out = [Collections.Generic.List[string]]::new()
    $out.Add("<text x=`"$(Format-Svg ($X + $m.Left))`" y=`"$(Format-Svg ($Y + 20))`" " +
        "class=`"title`">$(ConvertTo-XmlText $Panel.Title)</text>")
    $out.Add("<rect x=`"$(Format-Svg ($X + $m.Left))`" y=`"$(Format-Svg ($Y + $m.Top))`" " +
        "width=`"$w`" height=`"$h`" class=`"frame`"/>")
    Add-Grid $out $XRange $yRange $px $py $X $Y $w $h
    foreach ($line in $Series) { Add-Line $out $line $px $py }
    $out
}

function Add-Grid {
    <# Grid lines and labels at each power of ten on both axes. #>
    param($Out, [int[]] $XRange, [int[]] $YRange, $Px, $Py, [double] $X, [double] $Y,
        [double] $W, [double] $H)

    $m = $script:Margin
    for ($e = $XRange[0]; $e -le $XRange[1]; $e++) {
        $gx = Format-Svg (& $Px ([Math]::Pow(10, $e)))
        $Out.Add("<line x1=`"$gx`" y1=`"$(Format-Svg ($Y + $m.Top))`" x2=`"$gx`" " +
            "y2=`"$(Format-Svg ($Y + $m.Top + $H))`" class=`"grid`"/>")
        $Out.Add("<text x=`"$gx`" y=`"$(Format-Svg ($Y + $m.Top + $H + 16))`" " +
            "class=`"xtick`">$(Format-Tick $e)</text>")
    }
    $Out.Add("<text x=`"$(Format-Svg ($X + $m.Left + $W / 2))`" " +
        "y=`"$(Format-Svg ($Y + $m.Top + $H + 34))`" class=`"xtick`">profiles</text>")
    for ($e = $YRange[0]; $e -le $YRange[1]; $e++) {
        $gy = Format-Svg (& $Py ([Math]::Pow(10, $e)))
        $Out.Add("<line x1=`"$(Format-Svg ($X + $m.Left))`" y1=`"$gy`" " +
            "x2=`"$(Format-Svg ($X + $m.Left + $W))`" y2=`"$gy`" class=`"grid`"/>")
        $Out.Add("<text x=`"$(Format-Svg ($X + $m.Left - 6))`" y=`"$gy`" " +
            "class=`"ytick`">$(Format-Tick $e)</text>")
    }
}

function Add-Line {
    <# One series: a polyline through the medians, a dot and a min–max bar at each. #>
    param($Out, $Line, $Px, $Py)

    $points = ($Line.Points | ForEach-Object {
            "$(Format-Svg (& $Px $_.count)),$(Format-Svg (& $Py $_.median))"
        }) -join ' '
    $dash = if ($Line.Dashed) { ' stroke-dasharray="6 4"' } else { '' }
    $Out.Add("<polyline points=`"$points`" fill=`"none`" stroke=`"$($Line.Color)`" " +
        "stroke-width=`"2`"$dash/>")
    foreach ($p in $Line.Points) {
        $cx = Format-Svg (& $Px $p.count)
        $Out.Add("<line x1=`"$cx`" y1=`"$(Format-Svg (& $Py $p.min))`" x2=`"$cx`" " +
            "y2=`"$(Format-Svg (& $Py $p.max))`" stroke=`"$($Line.Color)`" stroke-width=`"1`"/>")
        $Out.Add("<circle cx=`"$cx`" cy=`"$(Format-Svg (& $Py $p.median))`" r=`"3`" " +
            "fill=`"$($Line.Color)`"><title>$(ConvertTo-XmlText $Line.Name): " +
            "$($p.count) profiles, median $($p.median.ToString('G4', $script:Invariant))" +
            "</title></circle>")
    }
}

function Get-LegendSvg {
    <# The series names with their colours, across the top. #>
    param($Names, [string] $Caption)

    $out = [Collections.Generic.List[string]]::new()
    $out.Add("<text x=`"16`" y=`"22`" class=`"caption`">$(ConvertTo-XmlText $Caption)</text>")
    $x = 16
    foreach ($entry in $Names) {
        $dash = if ($entry.Dashed) { ' stroke-dasharray="6 4"' } else { '' }
        $out.Add("<line x1=`"$x`" y1=`"46`" x2=`"$($x + 26)`" y2=`"46`" " +
            "stroke=`"$($entry.Color)`" stroke-width=`"3`"$dash/>")
        $out.Add("<text x=`"$($x + 32)`" y=`"50`" class=`"legend`">" +
            "$(ConvertTo-XmlText $entry.Name)</text>")
        $x += 44 + 7 * $entry.Name.Length
    }
    $out
}

function Get-ChartSvg {
    <# The whole chart as SVG text. #>
    param($Summary, [int[]] $Counts, [string] $Caption = '')

    $xRange = Get-LogRange ([double[]]$Counts)
    $panels = @($script:Panels | Where-Object { @(Get-ChartSeries $Summary $_).Count -gt 0 })
    $rows = [Math]::Ceiling($panels.Count / $script:Columns)
    $width = $script:PanelWidth * $script:Columns
    $height = $script:LegendHeight + $script:PanelHeight * $rows

    $body = [Collections.Generic.List[string]]::new()
    $legend = [ordered]@{}
    for ($i = 0; $i -lt $panels.Count; $i++) {
        $series = Get-ChartSeries $Summary $panels[$i]
        foreach ($s in $series) { if (-not $legend.Contains($s.Name)) { $legend[$s.Name] = $s } }
        $x = $script:PanelWidth * ($i % $script:Columns)
        $y = $script:LegendHeight + $script:PanelHeight * [Math]::Floor($i / $script:Columns)
        foreach ($line in (Get-PanelSvg $panels[$i] $series $xRange $x $y)) { $body.Add($line) }
    }
    $head = @(
        ("<svg xmlns=`"http://www.w3.org/2000/svg`" width=`"$width`" height=`"$height`" " +
            "viewBox=`"0 0 $width $height`" font-family=`"sans-serif`">"),
        ('<style>.title{font-size:13px;font-weight:bold}.caption{font-size:13px}' +
            '.legend{font-size:12px}.xtick{font-size:10px;text-anchor:middle}' +
            '.ytick{font-size:10px;text-anchor:end;dominant-baseline:middle}' +
            '.frame{fill:none;stroke:#999}.grid{stroke:#e4e4e4}</style>'),
        "<rect width=`"$width`" height=`"$height`" fill=`"white`"/>")
    $head + (Get-LegendSvg $legend.Values $Caption) + $body + @('</svg>')
}

Export-ModuleMember -Function Get-ChartSvg
