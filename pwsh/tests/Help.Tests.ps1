# The built help, as Get-Help shows it after a plain import: every exported
# cmdlet has a synopsis, a description and two examples or more, every
# parameter has a description, and the about topic names every IBWAPI_*
# variable. scripts/build-help.ps1 refuses to build incomplete help; this
# checks what actually reaches Get-Help from the module folder.

BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force

    # One fresh pwsh gathers everything; the cases are generated from what it
    # finds, so a new cmdlet or parameter gets its own case without an edit here.
    $gather = @'
        $common = [Management.Automation.Cmdlet]::CommonParameters
        function Get-Text($Items) { (@($Items | ForEach-Object Text) -join ' ').Trim() }
        foreach ($command in (Get-Module PoshIBWAPI.Config).ExportedCmdlets.Values) {
            $help = Get-Help $command.Name -Full
            $described = @{}
            foreach ($p in @($help.parameters.parameter | Where-Object { $_ })) {
                $described[[string]$p.name] = Get-Text $p.description
            }
            [pscustomobject]@{
                Kind = 'Cmdlet'; Name = $command.Name
                Synopsis = "$($help.Synopsis)".Trim()
                Description = Get-Text $help.description
                ExampleCount = @($help.examples.example | Where-Object { $_ }).Count
                Parameters = @($command.Parameters.Keys |
                    Where-Object { -not $common.Contains($_) } |
                    ForEach-Object { [pscustomobject]@{ Name = $_; Text = $described[$_] } })
            }
        }
        $about = Get-Help about_PoshIBWAPI.Config
        $field = [PoshIBWAPI.Config.ModuleSession].GetField('EnvironmentSettings',
            [Reflection.BindingFlags]'NonPublic, Static')
        [pscustomobject]@{
            Kind = 'About'; Name = "$($about.Name)"; Category = "$($about.Category)"
            Text = ($about | Out-String)
            Variables = @(if ($field) { $field.GetValue($null) })
        }
'@
    $found = Invoke-FreshPwsh -Script $gather

    $Cmdlets = @($found.Output | Where-Object Kind -eq 'Cmdlet' | ForEach-Object {
        @{ Name = $_.Name; Synopsis = $_.Synopsis; Description = $_.Description
            ExampleCount = $_.ExampleCount; ParameterCount = @($_.Parameters).Count }
    })
    $Parameters = @($found.Output | Where-Object Kind -eq 'Cmdlet' | ForEach-Object {
        $cmdlet = $_.Name
        $_.Parameters | ForEach-Object {
            @{ Cmdlet = $cmdlet; Parameter = $_.Name; Text = $_.Text }
        }
    })
    # The three cmdlets are named here too, so that finding none fails.
    $Gathered = @{ Names = @($Cmdlets | ForEach-Object { $_.Name }); Errors = @($found.Errors)
        Expected = @('Get-IBConfig', 'Set-IBConfig', 'Remove-IBConfig')
        ParameterTotal = $Parameters.Count }

    $topic = $found.Output | Where-Object Kind -eq 'About'
    $About = @{ Name = $topic.Name; Category = $topic.Category }
    # The variables the module reads, plus the list from the brief, so that a
    # renamed internal field cannot make this test check nothing.
    $listed = 'IBWAPI_HOST', 'IBWAPI_VERSION', 'IBWAPI_USERNAME', 'IBWAPI_PASSWORD',
        'IBWAPI_SKIPCERTCHECK', 'IBWAPI_NOSESSION', 'IBWAPI_VAULT_NAME',
        'IBWAPI_VAULT_SECRET_TEMPLATE', 'IBWAPI_VAULT_PASS'
    $Variables = @(@($listed) + @($topic.Variables) | Sort-Object -Unique | ForEach-Object {
        @{ Variable = $_; Text = $topic.Text }
    })
}

Describe 'Help of the exported cmdlets' {

    It 'checks every exported cmdlet and finds parameters to check' -ForEach $Gathered {
        $Errors | Should -BeNullOrEmpty
        foreach ($name in $Expected) { $Names | Should -Contain $name }
        $ParameterTotal | Should -BeGreaterThan $Names.Count
    }

    Context '<Name>' -ForEach $Cmdlets {

        It 'has a synopsis of its own' {
            $Synopsis | Should -Not -BeNullOrEmpty
            # Without a help file, Get-Help makes the synopsis from the syntax.
            $Synopsis | Should -Not -Match "^$([regex]::Escape($Name))\s"
        }

        It 'has a description' {
            $Description | Should -Not -BeNullOrEmpty
        }

        It 'has at least two examples' {
            $ExampleCount | Should -BeGreaterOrEqual 2
        }

        It 'has parameters' {
            $ParameterCount | Should -BeGreaterThan 0
        }
    }

    It '<Cmdlet> -<Parameter> has a description in Get-Help' -ForEach $Parameters {
        $Text | Should -Not -BeNullOrEmpty -Because "Get-Help $Cmdlet -Full should describe it"
    }
}

Describe 'Help topic about_PoshIBWAPI.Config' {

    It 'is found by Get-Help' -ForEach $About {
        $Name | Should -Be 'about_PoshIBWAPI.Config'
        $Category | Should -Be 'HelpFile'
    }

    It 'mentions <Variable>' -ForEach $Variables {
        $Text | Should -Match "\b$Variable\b"
    }
}
