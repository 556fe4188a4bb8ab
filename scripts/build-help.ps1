<#
.SYNOPSIS
Builds the module's help: a MAML file for the cmdlets and a text about topic.

.DESCRIPTION
Reads the markdown help source in -SourceDir and writes, under
<OutDir>/en-US:

  <HelpFile>                        MAML for every exported cmdlet; the name
                                    is the one the cmdlets look up
                                    (PoshIBWAPI.Config.dll-Help.xml)
  about_<Module>.help.txt           the about topic, as plain text

The text comes from the markdown; everything a cmdlet's code already says
(parameter types, mandatory, positions, pipeline input, aliases, wildcards,
parameter sets and syntax, output types) comes from the compiled cmdlets,
read with Get-Command after importing the module in OutDir. So the help
cannot drift from the code: the build fails, listing every problem, when

  - an exported cmdlet has no page, or a page names no exported cmdlet;
  - a cmdlet parameter (common parameters aside; -WhatIf and -Confirm
    included) has no text, or the page describes a parameter that does not
    exist;
  - a page has fewer than two examples, an example has no code, or a
    required section is missing or empty;
  - INPUTS does not name the type of a parameter that takes pipeline input
    by value, or says something other than None when nothing does;
  - OUTPUTS does not match the cmdlet's [OutputType] (None when it has none).

Cmdlet page layout (<Cmdlet>.md):

  # <Cmdlet>
  ## SYNOPSIS          one paragraph
  ## DESCRIPTION       paragraphs and "- " lists
  ## EXAMPLES
  ### Example <N>: <title>
  ```powershell        the first fenced block is the example's code;
  ...                  the text after it (and any further fenced block,
  ```                  such as sample output) explains it
  ## PARAMETERS
  ### -<Name>          text; an optional last line "Default value: <text>"
  ### CommonParameters optional, for readers of the markdown only:
                       PowerShell adds its own paragraph to the help
  ## INPUTS            one "### <type name>" (or "### None") per input
  ## OUTPUTS           one "### <type name>" (or "### None") per output
  ## NOTES             optional
  ## RELATED LINKS     optional; "- <topic>" or "- [text](uri)" items

There is no SYNTAX section: the syntax is generated from the parameter sets.

About page layout (about_<Module>.md): "# about_<Module>", then
"## Short description" and "## Long description", then any other
"## " sections with "### " subsections. It becomes an 80-column text file:
headings of level 2 in capitals, text indented by four, code by eight.

In all pages, inline `code`, **bold** and [text](uri) links are turned into
plain text, since Get-Help shows neither.

.EXAMPLE
pwsh -NoProfile -File scripts/build-help.ps1 -SourceDir pwsh/help -OutDir out/PoshIBWAPI.Config
#>
[CmdletBinding()]
param(
    # Positions keep the call in scripts/build.sh within 100 columns.
    [Parameter(Mandatory, Position = 0)] [string] $SourceDir,
    [Parameter(Mandatory, Position = 1)] [string] $OutDir
)
Set-StrictMode -Version 3
$ErrorActionPreference = 'Stop'

$script:Problems = [Collections.Generic.List[string]]::new()
$script:PageSections = @('SYNOPSIS', 'DESCRIPTION', 'EXAMPLES', 'PARAMETERS', 'INPUTS',
    'OUTPUTS', 'NOTES', 'RELATED LINKS')
$script:RequiredSections = @('SYNOPSIS', 'DESCRIPTION', 'EXAMPLES', 'PARAMETERS', 'INPUTS',
    'OUTPUTS')
$script:Maml = 'http://schemas.microsoft.com/maml/2004/10'
$script:Command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
$script:Dev = 'http://schemas.microsoft.com/maml/dev/2004/10'

function Add-Problem([string] $Message) {
    $script:Problems.Add($Message)
}

# Reading markdown: headings, then blocks of text.

function New-Node([int] $Level, [string] $Title) {
    [pscustomobject]@{ Level = $Level; Title = $Title
        Lines = [Collections.Generic.List[string]]::new()
        Children = [Collections.Generic.List[object]]::new() }
}

function New-LineBlock([string] $Kind) {
    [pscustomobject]@{ Kind = $Kind; Lines = [Collections.Generic.List[string]]::new() }
}

function Read-MarkdownTree([string] $Path) {
    <# The page as headings (levels 1 to 3) with the lines under each. #>
    $root = New-Node 0 ''
    $stack = [Collections.Generic.List[object]]::new()
    $stack.Add($root)
    $inFence = $false
    foreach ($line in [IO.File]::ReadAllLines($Path)) {
        # A "#" inside a code block is a PowerShell comment, not a heading.
        if ($line -match '^\s*```') { $inFence = -not $inFence }
        if (-not $inFence -and $line -match '^(#{1,3})\s+(.+?)\s*$') {
            $node = New-Node $Matches[1].Length $Matches[2]
            while ($stack[-1].Level -ge $node.Level) { $stack.RemoveAt($stack.Count - 1) }
            $stack[-1].Children.Add($node)
            $stack.Add($node)
            continue
        }
        $stack[-1].Lines.Add($line)
    }
    if ($inFence) { Add-Problem "$(Split-Path -Leaf $Path): a fenced code block is not closed" }
    $root
}

function ConvertTo-Block([string[]] $Lines) {
    <#
    Paragraphs, list items, fenced code and tables. Lines of a paragraph or
    item are joined with spaces, so the text reflows to any width.
    #>
    $blocks = [Collections.Generic.List[object]]::new()
    $current = $null
    $fence = $null
    foreach ($line in $Lines) {
        if ($null -ne $fence) {
            if ($line -match '^\s*```\s*$') { $blocks.Add($fence); $fence = $null }
            else { $fence.Lines.Add($line) }
            continue
        }
        if ($line -match '^\s*```') {
            $current = $null
            $fence = New-LineBlock 'code'
            continue
        }
        if ($line -match '^\s*$') { $current = $null; continue }
        if ($line -match '^\s*\|') {
            if ($null -eq $current -or $current.Kind -ne 'table') {
                $current = New-LineBlock 'table'
                $blocks.Add($current)
            }
            $current.Lines.Add($line.Trim())
            continue
        }
        if ($line -match '^\s*([-*]|\d+\.)\s+(.*)$') {
            $current = [pscustomobject]@{ Kind = 'item'; Marker = $Matches[1]; Text = $Matches[2] }
            $blocks.Add($current)
            continue
        }
        if ($null -ne $current -and $current.Kind -in 'para', 'item') {
            $current.Text += ' ' + $line.Trim()
            continue
        }
        $current = [pscustomobject]@{ Kind = 'para'; Text = $line.Trim() }
        $blocks.Add($current)
    }
    # Read-MarkdownTree has reported a fence left open; its lines are dropped.
    $blocks
}

function Format-Inline([string] $Text) {
    <# Plain text for Get-Help: no backticks, bold marks or link syntax. #>
    $Text = $Text -replace '\[([^\]]+)\]\(([^)]+)\)', '$1 ($2)'
    $Text = $Text -replace '\*\*([^*]+)\*\*', '$1'
    $Text -replace '`([^`]+)`', '$1'
}

function Get-BlockText($Block) {
    <# One block as one MAML paragraph. #>
    switch ($Block.Kind) {
        'para' { Format-Inline $Block.Text }
        'item' { "$($Block.Marker) $(Format-Inline $Block.Text)" }
        default { $Block.Lines -join "`n" }
    }
}

# Cmdlet pages: the sections, examples and parameter texts.

function Read-CmdletPage([string] $Path) {
    <# The sections of a cmdlet page, checked for layout; problems are recorded. #>
    $file = Split-Path -Leaf $Path
    $tree = Read-MarkdownTree $Path
    if ($tree.Children.Count -ne 1 -or $tree.Children[0].Level -ne 1) {
        Add-Problem "${file}: needs exactly one '# <Cmdlet>' heading at the top"
        return $null
    }
    $top = $tree.Children[0]
    $page = [ordered]@{ Name = $top.Title; File = $file }
    foreach ($section in $top.Children) {
        $name = $section.Title.ToUpperInvariant()
        if ($name -notin $script:PageSections) {
            Add-Problem "${file}: unknown section '## $($section.Title)'"
            continue
        }
        $page[$name] = $section
    }
    foreach ($name in $script:RequiredSections) {
        if (-not $page.Contains($name)) { Add-Problem "${file}: no '## $name' section" }
    }
    [pscustomobject]$page
}

function Get-SectionBlock($Page, [string] $Name) {
    if ($Page.PSObject.Properties[$Name]) { ConvertTo-Block $Page.$Name.Lines }
}

function Read-Example($Page) {
    <# The examples as title, code and remarks blocks. #>
    $examples = [Collections.Generic.List[object]]::new()
    if (-not $Page.PSObject.Properties['EXAMPLES']) { return }
    foreach ($node in $Page.EXAMPLES.Children) {
        if ($node.Title -notmatch '^Example (\d+):\s*(\S.*)$' -or
            [int]$Matches[1] -ne $examples.Count + 1) {
            Add-Problem ("$($Page.File): example heading '### $($node.Title)' should be " +
                "'### Example $($examples.Count + 1): <title>'")
            continue
        }
        $title = $Matches[0]
        $blocks = @(ConvertTo-Block $node.Lines)
        $code = @($blocks | Where-Object Kind -eq 'code' | Select-Object -First 1)
        if ($code.Count -eq 0 -or -not ($code[0].Lines -join '').Trim()) {
            Add-Problem "$($Page.File): '$title' has no code block"
            continue
        }
        $remarks = @($blocks | Where-Object { $_ -ne $code[0] })
        $examples.Add([pscustomobject]@{ Title = $title; Code = $code[0].Lines -join "`n"
            Remarks = $remarks })
    }
    $examples
}

function Read-ParameterText($Page) {
    <# Parameter name -> @{ Blocks; Default }, from the '### -Name' headings. #>
    $texts = @{}
    if (-not $Page.PSObject.Properties['PARAMETERS']) { return $texts }
    foreach ($node in $Page.PARAMETERS.Children) {
        if ($node.Title -eq 'CommonParameters') { continue }
        if ($node.Title -notmatch '^-(\w+)$') {
            Add-Problem ("$($Page.File): parameter heading '### $($node.Title)' " +
                "should be '### -<Name>'")
            continue
        }
        $name = $Matches[1]
        $blocks = [Collections.Generic.List[object]]::new([object[]]@(ConvertTo-Block $node.Lines))
        $default = $null
        if ($blocks.Count -gt 0 -and $blocks[-1].Kind -eq 'para' -and
            $blocks[-1].Text -match '^Default value:\s*(.+)$') {
            $default = Format-Inline $Matches[1]
            $blocks.RemoveAt($blocks.Count - 1)
        }
        $texts[$name] = [pscustomobject]@{ Blocks = $blocks; Default = $default }
    }
    $texts
}

function Read-TypeList($Page, [string] $Name) {
    <# INPUTS or OUTPUTS: one '### <type>' per entry, with optional text. #>
    if (-not $Page.PSObject.Properties[$Name]) { return }
    $Page.$Name.Children | ForEach-Object {
        [pscustomobject]@{ Type = $_.Title; Blocks = @(ConvertTo-Block $_.Lines) }
    }
}

function Read-RelatedLink($Page) {
    <# "- topic" or "- [text](uri)" items. #>
    foreach ($block in Get-SectionBlock $Page 'RELATED LINKS') {
        if ($block.Kind -ne 'item') {
            Add-Problem "$($Page.File): RELATED LINKS should hold only '- ' items"
            continue
        }
        if ($block.Text -match '^\[([^\]]+)\]\(([^)]*)\)$') {
            [pscustomobject]@{ Text = $Matches[1]; Uri = $Matches[2] }
        }
        else {
            [pscustomobject]@{ Text = (Format-Inline $block.Text); Uri = '' }
        }
    }
}

# Checks of a page against the compiled cmdlet.

function Get-DocumentedParameter($Command) {
    <# Parameters the help must describe: all but the common ones (-WhatIf and -Confirm stay). #>
    $common = [Management.Automation.Cmdlet]::CommonParameters
    @($Command.Parameters.Values | Where-Object { -not $common.Contains($_.Name) })
}

function Test-CmdletPage($Page, $Command, $Examples, $ParameterTexts) {
    <# Records every way the page and the compiled cmdlet disagree. #>
    $file = $Page.File
    foreach ($name in 'SYNOPSIS', 'DESCRIPTION') {
        if (@(Get-SectionBlock $Page $name).Count -eq 0) { Add-Problem "${file}: $name is empty" }
    }
    if ($Examples.Count -lt 2) {
        Add-Problem "${file}: has $($Examples.Count) example(s); at least two are needed"
    }
    $parameters = Get-DocumentedParameter $Command
    foreach ($parameter in $parameters) {
        $text = $ParameterTexts[$parameter.Name]
        if ($null -eq $text -or $text.Blocks.Count -eq 0) {
            Add-Problem "${file}: parameter -$($parameter.Name) of $($Command.Name) has no text"
        }
    }
    foreach ($name in $ParameterTexts.Keys) {
        if ($name -notin @($parameters | ForEach-Object Name)) {
            Add-Problem "${file}: describes -$name, which $($Command.Name) does not have"
        }
    }
    Test-TypeSection $Page $Command
}

function Test-TypeSection($Page, $Command) {
    <# INPUTS and OUTPUTS must agree with pipeline parameters and [OutputType]. #>
    $inputs = @(Read-TypeList $Page 'INPUTS' | ForEach-Object Type)
    $parameters = Get-DocumentedParameter $Command
    $byValue = @($parameters | Where-Object { (Get-ParameterFact $_).Pipeline -match 'ByValue' })
    $anyPipeline = @($parameters | Where-Object { (Get-ParameterFact $_).Pipeline -ne 'False' })
    if ($anyPipeline.Count -eq 0 -and ($inputs.Count -ne 1 -or $inputs[0] -ne 'None')) {
        Add-Problem "$($Page.File): INPUTS should be '### None': no parameter takes pipeline input"
    }
    foreach ($parameter in $byValue) {
        $type = $parameter.ParameterType
        if ($type.FullName -notin $inputs -and $type.Name -notin $inputs) {
            Add-Problem ("$($Page.File): INPUTS does not list $($type.FullName), " +
                "which -$($parameter.Name) takes from the pipeline")
        }
    }
    $declared = @($Command.OutputType | ForEach-Object Name | Sort-Object -Unique)
    if ($declared.Count -eq 0) { $declared = @('None') }
    $outputs = @(Read-TypeList $Page 'OUTPUTS' | ForEach-Object Type | Sort-Object -Unique)
    if (($outputs -join ',') -ne ($declared -join ',')) {
        Add-Problem ("$($Page.File): OUTPUTS lists '$($outputs -join ', ')', " +
            "but the cmdlet declares '$($declared -join ', ')'")
    }
}

# Writing MAML, the XML that Get-Help reads for a binary module's cmdlets.

function Write-Para([Xml.XmlWriter] $Writer, $Blocks) {
    foreach ($block in $Blocks) {
        $Writer.WriteElementString('maml', 'para', $script:Maml, (Get-BlockText $block))
    }
}

function Write-Description([Xml.XmlWriter] $Writer, $Blocks) {
    $Writer.WriteStartElement('maml', 'description', $script:Maml)
    Write-Para $Writer $Blocks
    $Writer.WriteEndElement()
}

function Get-ParameterFact($Parameter, [string[]] $SetNames) {
    <#
    What the code says about a parameter in the given sets (all of them when
    none are named), in MAML's words.
    #>
    $sets = @($Parameter.ParameterSets.GetEnumerator() | Where-Object {
        -not $SetNames -or $_.Key -eq '__AllParameterSets' -or $_.Key -in $SetNames } |
        ForEach-Object Value)
    $positions = @($sets.Position | Where-Object { $_ -ge 0 })
    $pipeline = @()
    if ($sets.ValueFromPipelineByPropertyName -contains $true) { $pipeline += 'ByPropertyName' }
    if ($sets.ValueFromPipeline -contains $true) { $pipeline += 'ByValue' }
    [pscustomobject]@{
        Required = [bool]($sets.Count -gt 0 -and $sets.IsMandatory -notcontains $false)
        Position = if ($positions.Count) { "$($positions[0])" } else { 'named' }
        Pipeline = if ($pipeline.Count) { "True ($($pipeline -join ', '))" } else { 'False' }
        Aliases = if ($Parameter.Aliases.Count) { $Parameter.Aliases -join ', ' } else { 'none' }
        Globbing = [bool]($Parameter.Attributes | Where-Object {
            $_ -is [Management.Automation.SupportsWildcardsAttribute] })
        IsSwitch = $Parameter.SwitchParameter
    }
}

function Write-Parameter([Xml.XmlWriter] $Writer, $Parameter, $Fact, $Text, [switch] $InSyntax) {
    $Writer.WriteStartElement('command', 'parameter', $script:Command)
    $Writer.WriteAttributeString('required', "$($Fact.Required)".ToLowerInvariant())
    $Writer.WriteAttributeString('variableLength', 'true')
    $Writer.WriteAttributeString('globbing', "$($Fact.Globbing)".ToLowerInvariant())
    $Writer.WriteAttributeString('pipelineInput', $Fact.Pipeline)
    $Writer.WriteAttributeString('position', $Fact.Position)
    $Writer.WriteAttributeString('aliases', $Fact.Aliases)
    $Writer.WriteElementString('maml', 'name', $script:Maml, $Parameter.Name)
    Write-Description $Writer $Text.Blocks
    $type = $Parameter.ParameterType
    # A switch takes no value, so the syntax shows it bare: [-List], not [-List <SwitchParameter>].
    if (-not ($InSyntax -and $Fact.IsSwitch)) {
        $Writer.WriteStartElement('command', 'parameterValue', $script:Command)
        $Writer.WriteAttributeString('required', "$(-not $Fact.IsSwitch)".ToLowerInvariant())
        $Writer.WriteAttributeString('variableLength', 'false')
        $Writer.WriteString($type.Name)
        $Writer.WriteEndElement()
    }
    $Writer.WriteStartElement('dev', 'type', $script:Dev)
    $Writer.WriteElementString('maml', 'name', $script:Maml, $type.FullName)
    $Writer.WriteEndElement()
    $default = if ($Text.Default) { $Text.Default }
        elseif ($Fact.IsSwitch) { 'False' }
        else { 'None' }
    $Writer.WriteElementString('dev', 'defaultValue', $script:Dev, $default)
    $Writer.WriteEndElement()
}

function Get-SyntaxParameter($Command, $Set) {
    <# A set's parameters as Get-Command shows them: positional first, by position. #>
    $common = [Management.Automation.Cmdlet]::CommonParameters
    $own = @($Set.Parameters | Where-Object { -not $common.Contains($_.Name) })
    $positional = @($own | Where-Object Position -ge 0 | Sort-Object Position)
    $named = @($own | Where-Object Position -lt 0)
    @($positional + $named | ForEach-Object { $Command.Parameters[$_.Name] })
}

function Write-Syntax([Xml.XmlWriter] $Writer, $Command, $ParameterTexts) {
    $Writer.WriteStartElement('command', 'syntax', $script:Command)
    $sets = @($Command.ParameterSets | Sort-Object { -not $_.IsDefault })
    foreach ($set in $sets) {
        $Writer.WriteStartElement('command', 'syntaxItem', $script:Command)
        $Writer.WriteElementString('maml', 'name', $script:Maml, $Command.Name)
        foreach ($parameter in Get-SyntaxParameter $Command $set) {
            $fact = Get-ParameterFact $parameter @($set.Name)
            Write-Parameter $Writer $parameter $fact $ParameterTexts[$parameter.Name] -InSyntax
        }
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()
}

function Write-ParameterList([Xml.XmlWriter] $Writer, $Command, $ParameterTexts) {
    $Writer.WriteStartElement('command', 'parameters', $script:Command)
    $allSets = @($Command.ParameterSets.Name)
    # In the order the cmdlet declares them, as in the syntax.
    foreach ($parameter in Get-DocumentedParameter $Command) {
        $fact = Get-ParameterFact $parameter $allSets
        Write-Parameter $Writer $parameter $fact $ParameterTexts[$parameter.Name]
    }
    $Writer.WriteEndElement()
}

function Write-TypeList([Xml.XmlWriter] $Writer, [string] $Outer, [string] $Inner, $Entries) {
    <# INPUTS (inputTypes/inputType) or OUTPUTS (returnValues/returnValue). #>
    $Writer.WriteStartElement('command', $Outer, $script:Command)
    foreach ($entry in $Entries) {
        $Writer.WriteStartElement('command', $Inner, $script:Command)
        $Writer.WriteStartElement('dev', 'type', $script:Dev)
        $Writer.WriteElementString('maml', 'name', $script:Maml, $entry.Type)
        $Writer.WriteEndElement()
        Write-Description $Writer $entry.Blocks
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()
}

function Write-Example([Xml.XmlWriter] $Writer, $Examples) {
    $Writer.WriteStartElement('command', 'examples', $script:Command)
    foreach ($example in $Examples) {
        $Writer.WriteStartElement('command', 'example', $script:Command)
        $Writer.WriteElementString('maml', 'title', $script:Maml,
            "---------- $($example.Title) ----------")
        $Writer.WriteElementString('dev', 'code', $script:Dev, $example.Code)
        $Writer.WriteStartElement('dev', 'remarks', $script:Dev)
        Write-Para $Writer $example.Remarks
        # Get-Help shows examples back to back; an empty paragraph keeps them apart.
        $Writer.WriteElementString('maml', 'para', $script:Maml, '')
        $Writer.WriteEndElement()
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()
}

function Write-RelatedLink([Xml.XmlWriter] $Writer, $Page) {
    $Writer.WriteStartElement('command', 'relatedLinks', $script:Command)
    foreach ($link in Read-RelatedLink $Page) {
        $Writer.WriteStartElement('maml', 'navigationLink', $script:Maml)
        $Writer.WriteElementString('maml', 'linkText', $script:Maml, $link.Text)
        $Writer.WriteElementString('maml', 'uri', $script:Maml, $link.Uri)
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()
}

function Write-CommandHelp([Xml.XmlWriter] $Writer, $Help) {
    <# One <command:command> element: text from the page, facts from the cmdlet. #>
    $command = $Help.Command
    $Writer.WriteStartElement('command', 'command', $script:Command)
    $Writer.WriteStartElement('command', 'details', $script:Command)
    $Writer.WriteElementString('command', 'name', $script:Command, $command.Name)
    $Writer.WriteElementString('command', 'verb', $script:Command, $command.Verb)
    $Writer.WriteElementString('command', 'noun', $script:Command, $command.Noun)
    Write-Description $Writer (Get-SectionBlock $Help.Page 'SYNOPSIS')
    $Writer.WriteEndElement()
    Write-Description $Writer (Get-SectionBlock $Help.Page 'DESCRIPTION')
    Write-Syntax $Writer $command $Help.ParameterTexts
    Write-ParameterList $Writer $command $Help.ParameterTexts
    Write-TypeList $Writer 'inputTypes' 'inputType' (Read-TypeList $Help.Page 'INPUTS')
    Write-TypeList $Writer 'returnValues' 'returnValue' (Read-TypeList $Help.Page 'OUTPUTS')
    $Writer.WriteStartElement('maml', 'alertSet', $script:Maml)
    $Writer.WriteStartElement('maml', 'alert', $script:Maml)
    Write-Para $Writer (Get-SectionBlock $Help.Page 'NOTES')
    $Writer.WriteEndElement()
    $Writer.WriteEndElement()
    Write-Example $Writer $Help.Examples
    Write-RelatedLink $Writer $Help.Page
    $Writer.WriteEndElement()
}

function Write-MamlFile([string] $Path, $Helps) {
    $settings = [Xml.XmlWriterSettings]::new()
    $settings.Indent = $true
    $settings.Encoding = [Text.UTF8Encoding]::new($true)
    $writer = [Xml.XmlWriter]::Create($Path, $settings)
    try {
        $writer.WriteStartDocument()
        $writer.WriteStartElement('helpItems', 'http://msh')
        $writer.WriteAttributeString('schema', 'maml')
        $writer.WriteAttributeString('xmlns', 'maml', $null, $script:Maml)
        $writer.WriteAttributeString('xmlns', 'command', $null, $script:Command)
        $writer.WriteAttributeString('xmlns', 'dev', $null, $script:Dev)
        foreach ($help in $Helps) { Write-CommandHelp $writer $help }
        $writer.WriteEndElement()
        $writer.WriteEndDocument()
    }
    finally {
        $writer.Dispose()
    }
}

# The about topic: markdown to an 80-column text file.

function Format-Wrapped([string] $Text, [string] $Indent, [string] $Hanging = $Indent) {
    <# Wraps at 80 columns, the width about topics are written for. #>
    $lines = [Collections.Generic.List[string]]::new()
    $line = $Indent
    $fresh = $true
    foreach ($word in $Text -split '\s+' | Where-Object { $_ }) {
        if (-not $fresh -and $line.Length + 1 + $word.Length -gt 80) {
            $lines.Add($line)
            $line = $Hanging
            $fresh = $true
        }
        $line += if ($fresh) { $word } else { " $word" }
        $fresh = $false
    }
    $lines.Add($line)
    $lines
}

function Format-AboutBlock($Blocks) {
    for ($i = 0; $i -lt $Blocks.Count; $i++) {
        $block = $Blocks[$i]
        switch ($block.Kind) {
            'para' { Format-Wrapped (Format-Inline $block.Text) '    ' }
            'item' {
                $marker = "$($block.Marker) "
                $hanging = ' ' * (4 + $marker.Length)
                Format-Wrapped (Format-Inline $block.Text) ('    ' + $marker) $hanging
            }
            'code' { $block.Lines | ForEach-Object { if ($_) { '        ' + $_ } else { '' } } }
            'table' { $block.Lines | ForEach-Object { '    ' + (Format-Inline $_) } }
        }
        # Items of one list stay together; every other block ends with a blank line.
        $next = if ($i + 1 -lt $Blocks.Count) { $Blocks[$i + 1] }
        if (-not ($block.Kind -eq 'item' -and $next -and $next.Kind -eq 'item')) { '' }
    }
}

function Format-AboutSection($Node) {
    <# Level 2 headings in capitals at the margin, level 3 indented by two. #>
    if ($Node.Level -eq 2) { $Node.Title.ToUpperInvariant() } else { '  ' + $Node.Title }
    Format-AboutBlock @(ConvertTo-Block $Node.Lines)
    foreach ($child in $Node.Children) { Format-AboutSection $child }
}

function Build-AboutTopic([string] $Source, [string] $Target, [string] $TopicName) {
    $file = Split-Path -Leaf $Source
    $tree = Read-MarkdownTree $Source
    $top = @($tree.Children)
    if ($top.Count -ne 1 -or $top[0].Level -ne 1 -or $top[0].Title -ne $TopicName) {
        Add-Problem "${file}: needs exactly one '# $TopicName' heading at the top"
        return
    }
    Remove-Item -Path $Target -ErrorAction Ignore
    $titles = @($top[0].Children | ForEach-Object Title)
    foreach ($required in 'Short description', 'Long description') {
        if ($required -notin $titles) { Add-Problem "${file}: no '## $required' section" }
    }
    $text = @('TOPIC', "    $TopicName", '') + @($top[0].Children | ForEach-Object {
        Format-AboutSection $_ })
    foreach ($line in $text | Where-Object { $_.Length -gt 80 }) {
        Add-Problem "${file}: a line is wider than 80 columns in the text topic: '$($line.Trim())'"
    }
    if ($script:Problems.Count -eq 0) {
        [IO.File]::WriteAllText($Target, ($text -join "`n").TrimEnd() + "`n",
            [Text.UTF8Encoding]::new($true))
    }
}

function Import-BuiltModule([string] $ModuleDir) {
    <#
    Imports the module to read its cmdlets. Importing opens a profile store,
    so it gets an empty HOME and no IBWAPI_* variables: building help must
    neither read the builder's own profiles nor reach a vault.
    #>
    $manifest = @(Get-ChildItem -Path $ModuleDir -Filter '*.psd1')
    if ($manifest.Count -ne 1) { throw "expected one module manifest in $ModuleDir" }
    Get-ChildItem env: | Where-Object Name -like 'IBWAPI_*' | Remove-Item
    $env:HOME = $script:IsolatedHome
    $env:LOCALAPPDATA = $script:IsolatedHome
    Import-Module $manifest[0].FullName -Force -PassThru -WarningAction SilentlyContinue
}

function Build-CmdletHelp($Module, [string] $Source, [string] $Target) {
    $commands = @($Module.ExportedCmdlets.Values | Sort-Object Name)
    $pages = @{}
    $files = Get-ChildItem -Path $Source -Filter '*.md' | Where-Object Name -notlike 'about_*'
    foreach ($path in $files) {
        $page = Read-CmdletPage $path.FullName
        if ($null -eq $page) { continue }
        if ($page.Name -ne $path.BaseName) {
            Add-Problem "$($page.File): the heading names '$($page.Name)', not '$($path.BaseName)'"
        }
        elseif ($page.Name -notin $commands.Name) {
            Add-Problem "$($page.File): the module exports no cmdlet '$($page.Name)'"
        }
        $pages[$page.Name] = $page
    }
    $helps = foreach ($command in $commands) {
        $page = $pages[$command.Name]
        if ($null -eq $page) {
            Add-Problem "$($command.Name) has no page $($command.Name).md"
            continue
        }
        $help = [pscustomobject]@{ Command = $command; Page = $page
            Examples = @(Read-Example $page); ParameterTexts = Read-ParameterText $page }
        Test-CmdletPage $page $command $help.Examples $help.ParameterTexts
        $help
    }
    $helpFiles = @($commands | ForEach-Object HelpFile | Sort-Object -Unique)
    if ($helpFiles.Count -ne 1) {
        Add-Problem "the cmdlets should look up one help file, not '$($helpFiles -join ', ')'"
        return
    }
    # A failed build must not leave an older help file looking current.
    Remove-Item -Path (Join-Path $Target $helpFiles[0]) -ErrorAction Ignore
    if ($script:Problems.Count -eq 0) {
        Write-MamlFile (Join-Path $Target $helpFiles[0]) $helps
    }
}

$script:IsolatedHome = Join-Path ([IO.Path]::GetTempPath()) ('build-help-' + [guid]::NewGuid())
try {
    New-Item -ItemType Directory -Path $script:IsolatedHome | Out-Null
    $moduleDir = (Resolve-Path $OutDir).Path
    $source = (Resolve-Path $SourceDir).Path
    $module = Import-BuiltModule $moduleDir
    $target = Join-Path $moduleDir 'en-US'
    New-Item -ItemType Directory -Force -Path $target | Out-Null
    Build-CmdletHelp $module $source $target
    $topic = "about_$($module.Name)"
    $about = Join-Path $source "$topic.md"
    if (Test-Path $about) { Build-AboutTopic $about (Join-Path $target "$topic.help.txt") $topic }
    else { Add-Problem "no about topic $topic.md in $SourceDir" }
}
finally {
    Remove-Item -Recurse -Force -Path $script:IsolatedHome -ErrorAction SilentlyContinue
}

if ($script:Problems.Count -gt 0) {
    $report = @("build-help: the help in $SourceDir does not match the module in ${OutDir}:") +
        @($script:Problems | ForEach-Object { "  - $_" })
    [Console]::Error.WriteLine($report -join [Environment]::NewLine)
    exit 1
}
"build-help: wrote the help of $($module.Name) to $target"

