# Loading the module (A7 completion; import by path and by name; re-import;
# runspaces) and the logging streams.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $Seed = @'
        $c = [pscredential]::new('u', (ConvertTo-SecureString 'p' -AsPlainText -Force))
        foreach ($n in 'prod', 'lab one', "it's", 'cost$', 'br[ack]et', 'Prod-EU') {
            Set-IBConfig -ProfileName $n -WAPIHost h -WAPIVersion 2.1 -Credential $c
        }
'@
    $Complete = @'
        function Complete([string] $line) {
            (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches |
                ForEach-Object CompletionText
        }
'@
}

Describe 'Completion of -ProfileName (A7)' {

    It 'completes <Line> to <Expected>' -ForEach @(
        @{ Line = 'Get-IBConfig -ProfileName pr'; Expected = @('prod', 'Prod-EU') }
        @{ Line = 'Get-IBConfig PR'; Expected = @('prod', 'Prod-EU') }
        @{ Line = 'Remove-IBConfig -ProfileName lab'; Expected = @("'lab one'") }
        @{ Line = 'Set-IBConfig -ProfileName it'; Expected = @("'it''s'") }
        @{ Line = 'Get-IBConfig -ProfileName cost'; Expected = @("'cost$'") }
        @{ Line = 'Get-IBConfig -ProfileName br'; Expected = @("'br[ack]et'") }
        @{ Line = "Get-IBConfig -ProfileName 'la"; Expected = @("'lab one'") }
        @{ Line = 'Get-IBConfig -ProfileName "co'; Expected = @('"cost`$"') }
    ) {
        $r = Invoke-FreshPwsh -Script ($Seed + $Complete + "Complete '$($Line -replace "'", "''")'")

        $r.Output | Should -Be $Expected
    }

    It 'gives completions that run and find the profile' {
        $r = Invoke-FreshPwsh -Script ($Seed + $Complete + @'
            foreach ($word in 'lab', 'it', 'cost', 'br') {
                $text = Complete "Get-IBConfig -ProfileName $word"
                (Invoke-Expression "Get-IBConfig -ProfileName $text").ProfileName
            }
'@)

        $r.Output | Should -Be @('lab one', "it's", 'cost$', 'br[ack]et')
    }
}

Describe 'Loading the module' {

    It 'exports exactly its cmdlets' {
        $r = Invoke-FreshPwsh -Script '(Get-Module PoshIBWAPI.Config).ExportedCommands.Keys | Sort-Object'

        $r.Output | Should -Be @('Copy-IBConfig', 'Get-IBConfig', 'Move-IBConfig', 'Remove-IBConfig',
            'Set-IBConfig')
    }

    It 'has a manifest that publishing tools accept' {
        $manifest = Join-Path $env:IBCONFIG_TEST_MODULE 'PoshIBWAPI.Config.psd1'

        $data = Import-PowerShellDataFile $manifest
        $info = Test-ModuleManifest $manifest -ErrorAction Stop

        $info.Version | Should -Be ([version]'0.1.0')
        $info.Guid | Should -Not -Be ([guid]::Empty)
        $data.CompatiblePSEditions | Should -Be @('Desktop', 'Core')
        $data.PrivateData.PSData.Tags | Should -Contain 'Infoblox'
        $data.PrivateData.PSData.ReleaseNotes | Should -Not -BeNullOrEmpty
        $info.ProjectUri.IsAbsoluteUri | Should -BeTrue
        $info.LicenseUri.IsAbsoluteUri | Should -BeTrue
        ($info.ExportedCmdlets.Keys | Sort-Object) |
            Should -Be @('Copy-IBConfig', 'Get-IBConfig', 'Move-IBConfig', 'Remove-IBConfig', 'Set-IBConfig')
        Test-Path (Join-Path $env:IBCONFIG_TEST_MODULE 'LICENSE') | Should -BeTrue
    }

    It 'imports by name from PSModulePath, from any current directory' {
        $modules = New-TestHome
        Copy-Item -Recurse $env:IBCONFIG_TEST_MODULE (Join-Path $modules 'PoshIBWAPI.Config')
        $elsewhere = New-TestHome

        $r = Invoke-FreshPwsh -NoImport -Environment @{ PSModulePath = $modules } -Script @"
            Set-Location '$elsewhere'
            Import-Module PoshIBWAPI.Config
            (Get-Command Get-IBConfig).Source
            `$c = [pscredential]::new('u', (ConvertTo-SecureString 'p' -AsPlainText -Force))
            Set-IBConfig -ProfileName a -WAPIHost h -WAPIVersion 2.1 -Credential `$c
            (Get-IBConfig).ProfileName
"@

        $r.Terminating | Should -BeNullOrEmpty
        $r.Output | Should -Be @('PoshIBWAPI.Config', 'a')
    }

    It 'reads the store afresh on Import-Module -Force and after Remove-Module' {
        $homeDir = New-TestHome
        $file = Get-ConfigPath $homeDir

        $r = Invoke-FreshPwsh -HomeDir $homeDir -Script @"
            (Get-IBConfig -List | Measure-Object).Count
            New-Item -ItemType Directory -Force '$(Split-Path $file)' | Out-Null
            Copy-Item '$(Get-FixturePath posh-ibwapi.ps7-linux.json)' '$file'
            Import-Module '$env:IBCONFIG_TEST_MODULE' -Force
            (Get-IBConfig -List | Measure-Object).Count
            Remove-Item -Force '$file'
            Remove-Module PoshIBWAPI.Config
            Import-Module '$env:IBCONFIG_TEST_MODULE'
            (Get-IBConfig -List | Measure-Object).Count
"@

        $r.Terminating | Should -BeNullOrEmpty
        $r.Output | Should -Be @(0, 2, 0)
    }

    It 'works in a second runspace and in ForEach-Object -Parallel' {
        $homeDir = New-TestHome
        Copy-Fixture 'posh-ibwapi.ps7-linux.json' $homeDir | Out-Null

        $r = Invoke-FreshPwsh -HomeDir $homeDir -Script @"
            `$ps = [powershell]::Create()
            `$null = `$ps.AddScript("Import-Module '$env:IBCONFIG_TEST_MODULE'; (Get-IBConfig).ProfileName")
            `$ps.Invoke()
            `$ps.Dispose()
            1..3 | ForEach-Object -Parallel {
                Import-Module `$using:env:IBCONFIG_TEST_MODULE
                (Get-IBConfig -List).Count
            }
"@

        $r.Terminating | Should -BeNullOrEmpty
        $r.Output | Should -Be @('lab', 2, 2, 2)
    }
}

Describe 'Logging through the host' {

    It 'says at import which store was chosen, with verbose output on' {
        $homeDir = New-TestHome
        $file = Copy-Fixture 'posh-ibwapi.ps7-linux.json' $homeDir

        $r = Invoke-FreshPwsh -HomeDir $homeDir -NoImport -Script @"
            # The module's scope sees the global preference, as for 4.x's own import verbose.
            `$global:VerbosePreference = 'Continue'
            Import-Module '$env:IBCONFIG_TEST_MODULE'
"@

        $chosen = $r.Verbose | Where-Object { $_ -like "*config file $file*" }
        $chosen | Should -Not -BeNullOrEmpty
        ($r.Verbose -join "`n") | Should -Match 'IBWAPI_HOST'
    }

    It 'says with -Verbose on any cmdlet which store was chosen at import, and why' {
        $homeDir = New-TestHome
        $file = Copy-Fixture 'posh-ibwapi.ps7-linux.json' $homeDir

        $r = Invoke-FreshPwsh -HomeDir $homeDir -Script 'Get-IBConfig -Verbose | Out-Null'

        ($r.Verbose -join "`n") | Should -Match ([regex]::Escape("config file $file"))
        ($r.Verbose -join "`n") | Should -Match 'IBWAPI_VAULT_NAME'
    }

    It 'never shows a password on any stream' {
        $r = Invoke-FreshPwsh -Script @'
            $VerbosePreference = 'Continue'; $DebugPreference = 'Continue'
            $c = [pscredential]::new('u', (ConvertTo-SecureString 'S3cret-Needle' -AsPlainText -Force))
            Set-IBConfig -ProfileName a -WAPIHost h -WAPIVersion 2.1 -Credential $c -Verbose -Debug 5>&1
            Get-IBConfig -List -Verbose -Debug 5>&1 | Out-String
            Remove-IBConfig a -Verbose -Debug 5>&1
'@

        ($r.Output + $r.Verbose + $r.Warnings) -join "`n" | Should -Not -Match 'S3cret-Needle'
        $r.Verbose | Should -Not -BeNullOrEmpty
    }
}
