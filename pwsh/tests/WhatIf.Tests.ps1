# -WhatIf on every cmdlet that writes changes neither the file nor the vault;
# without it, nothing prompts (unattended 4.x scripts never stop to ask).

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $Writes = @'
        $c = [pscredential]::new('u', (ConvertTo-SecureString 'p' -AsPlainText -Force))
        Set-IBConfig -ProfileName new -WAPIHost h -WAPIVersion 2.1 -Credential $c -WhatIf
        Set-IBConfig -ProfileName lab -WAPIHost changed.example.test -WhatIf
        Set-IBConfig -ProfileName lab -NewName renamed -WhatIf
        Remove-IBConfig -ProfileName lab -WhatIf
        Remove-IBConfig -WhatIf
        Get-IBConfig -List | Remove-IBConfig -WhatIf
        Remove-IBConfig -AllProfiles -WhatIf
        (Get-IBConfig -List).ProfileName -join ','
'@
}

Describe '-WhatIf' {

    It 'changes nothing in the config file' {
        $homeDir = New-TestHome
        $file = Copy-Fixture 'posh-ibwapi.ps7-linux.json' $homeDir
        $bytes = [IO.File]::ReadAllBytes($file)

        $r = Invoke-FreshPwsh -HomeDir $homeDir -Script $Writes

        $r.Terminating | Should -BeNullOrEmpty
        $r.Output | Should -Be 'lab,prod'
        [IO.File]::ReadAllBytes($file) | Should -Be $bytes
    }

    It 'changes nothing in a SecretManagement vault' {
        $envVars = New-StandInEnvironment -Extra @{ IBWAPI_VAULT_NAME = 'TestVault' }
        $r = Invoke-FreshPwsh -Environment $envVars -Before (Get-VaultFixtureScript) -Script (
            '$null = Get-StandInCallCount -Reset' + "`n" + $Writes + "`n" + @'
            $calls = Get-StandInCallCount -Vault TestVault
            [int]$calls['Set-Secret'] + [int]$calls['Remove-Secret']
'@)

        $r.Terminating | Should -BeNullOrEmpty
        $r.Output | Should -Be @('lab,old,prod', 0)
    }

    It 'never prompts without it, even with $ConfirmPreference at Medium' {
        $r = Invoke-FreshPwsh -Script @'
            $ConfirmPreference = 'Medium'
            $c = [pscredential]::new('u', (ConvertTo-SecureString 'p' -AsPlainText -Force))
            Set-IBConfig -ProfileName a -WAPIHost h -WAPIVersion 2.1 -Credential $c
            Remove-IBConfig a
            (Get-IBConfig -List | Measure-Object).Count
'@

        $r.Terminating | Should -BeNullOrEmpty
        $r.Output | Should -Be 0
    }
}
