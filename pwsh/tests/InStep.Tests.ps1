# Issue 4: saves that keep every process's changes, private files, staying
# in step with other processes, and migration between the file and a vault.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force

    # 50 new profiles from worker $Worker, as fast as the module allows.
    function Get-AddScript([int] $Worker) {
        @"
            `$c = [pscredential]::new('user$Worker', (ConvertTo-SecureString 'pw $Worker ✓' -AsPlainText -Force))
            foreach (`$i in 1..50) {
                Set-IBConfig -ProfileName "w$Worker-`$i" -WAPIHost "h$Worker-`$i.example.test" ``
                    -WAPIVersion "2.`$i" -Credential `$c -NoSwitchProfile
            }
"@
    }

    function Test-AllAdded([string] $HomeDir, [hashtable] $Environment) {
        $r = Invoke-FreshPwsh -HomeDir $HomeDir -Environment $Environment -Script @'
            Get-IBConfig -List | ForEach-Object {
                '{0}|{1}|{2}|{3}|{4}' -f $_.ProfileName, $_.WAPIHost, $_.WAPIVersion,
                    $_.Credential.UserName, $_.Credential.GetNetworkCredential().Password
            }
'@
        $expected = foreach ($w in 1..4) {
            foreach ($i in 1..50) { "w$w-$i|h$w-$i.example.test|2.$i|user$w|pw $w ✓" }
        }
        $r.ImportErrors | Should -BeNullOrEmpty
        ($r.Output | Sort-Object) | Should -Be ($expected | Sort-Object)
    }
}

Describe 'Four processes adding profiles at once' {

    It 'keeps all 200 profiles in <Store>' -ForEach @(
        @{ Store = 'the config file'; Environment = @{} }
        @{ Store = 'the encrypted vault file'; Environment = @{ IBWAPI_VAULT_NAME = '[file]'; IBWAPI_VAULT_PASS = 'p' } }
    ) {
        $homeDir = New-TestHome

        $runs = foreach ($w in 1..4) {
            Start-FreshPwsh -HomeDir $homeDir -Environment $Environment -Script (Get-AddScript $w)
        }
        $results = $runs | Complete-FreshPwsh

        $results | ForEach-Object { $_.Terminating | Should -BeNullOrEmpty }
        Test-AllAdded $homeDir $Environment
    }
}

Describe 'Staying in step with other processes' {

    It 'shows a profile another pwsh saved, without re-import (sync <Sync>)' -ForEach @(
        @{ Sync = 'on'; Environment = @{}; Expected = @('first', 'from-b') }
        @{ Sync = 'off'; Environment = @{ IBWAPI_CONFIG_SYNC = 'off' }; Expected = @('first') }
    ) {
        $homeDir = New-TestHome
        $signal = Join-Path (New-TestHome) 'go'
        $ready = "$signal.ready"
        $a = Start-FreshPwsh -HomeDir $homeDir -Environment $Environment -Script @"
            `$c = [pscredential]::new('u', (ConvertTo-SecureString 'p' -AsPlainText -Force))
            Set-IBConfig -ProfileName first -WAPIHost h -WAPIVersion 2.1 -Credential `$c
            New-Item '$ready' | Out-Null
            while (-not (Test-Path '$signal')) { Start-Sleep -Milliseconds 50 }
            (Get-IBConfig -List).ProfileName
"@
        while (-not (Test-Path $ready)) { Start-Sleep -Milliseconds 50 }

        Invoke-FreshPwsh -HomeDir $homeDir -Environment $Environment -Script @'
            $c = [pscredential]::new('u', (ConvertTo-SecureString 'p' -AsPlainText -Force))
            Set-IBConfig -ProfileName from-b -WAPIHost h -WAPIVersion 2.1 -Credential $c -NoSwitchProfile
'@ | Out-Null
        New-Item $signal | Out-Null
        $r = $a | Complete-FreshPwsh

        $r.Output | Should -Be $Expected
    }
}

Describe 'Private files' {

    It 'creates the file 0600 in a folder it creates 0700' {
        $r = Invoke-FreshPwsh -Script @'
            $c = [pscredential]::new('u', (ConvertTo-SecureString 'p' -AsPlainText -Force))
            Set-IBConfig -ProfileName a -WAPIHost h -WAPIVersion 2.1 -Credential $c
'@
        $file = Get-ConfigPath $r.HomeDir

        [int](Get-Item $file).UnixFileMode | Should -Be ([Convert]::ToInt32('600', 8))
        [int](Get-Item -Force (Split-Path $file)).UnixFileMode | Should -Be ([Convert]::ToInt32('700', 8))
    }

    It 'tightens a world-readable file from 4.x at the next save, and says so' {
        $homeDir = New-TestHome
        $file = Copy-Fixture 'posh-ibwapi.ps7-linux.json' $homeDir
        & chmod 0644 $file

        $r = Invoke-FreshPwsh -HomeDir $homeDir -Script 'Set-IBConfig -ProfileName lab -WAPIHost x.example.test -Verbose'

        $r.Terminating | Should -BeNullOrEmpty
        [int](Get-Item $file).UnixFileMode | Should -Be ([Convert]::ToInt32('600', 8))
        ($r.Verbose -join "`n") | Should -Match '0?644|permission|mode'
    }
}

Describe 'Migration between the config file and a vault' {

    BeforeAll {
        $ShowAll = @'
            Get-IBConfig -List | ForEach-Object {
                '{0}|{1}|{2}|{3}|{4}|{5}|{6}' -f $_.ProfileName, $_.WAPIHost, $_.WAPIVersion,
                    $_.Credential.UserName, $(if ($_.Credential) { $_.Credential.GetNetworkCredential().Password }),
                    $_.SkipCertificateCheck, $_.NoSession
            }
            'current=' + (Get-IBConfig).ProfileName
'@
        $VaultEnv = @{ IBWAPI_VAULT_NAME = '[file]'; IBWAPI_VAULT_PASS = 'migrate ✓' }
    }

    It 'moves every profile of <Fixture> file -> vault -> file with every field and the current one' -ForEach @(
        @{ Fixture = 'posh-ibwapi.ps7-linux.json' }, @{ Fixture = 'posh-ibwapi.older.json' }
    ) {
        $homeDir = New-TestHome
        Copy-Fixture $Fixture $homeDir | Out-Null
        $file = Get-ConfigPath $homeDir
        $before = Invoke-FreshPwsh -HomeDir $homeDir -Script $ShowAll

        $toVault = Invoke-FreshPwsh -HomeDir $homeDir -Environment $VaultEnv -Script "Move-IBConfig Vault; $ShowAll"
        $fileAfterMove = Test-Path $file
        $back = Invoke-FreshPwsh -HomeDir $homeDir -Environment $VaultEnv -Script 'Move-IBConfig -Destination File'
        $after = Invoke-FreshPwsh -HomeDir $homeDir -Script $ShowAll

        $toVault.Terminating | Should -BeNullOrEmpty
        $toVault.Output | Should -Be $before.Output
        $fileAfterMove | Should -BeFalse
        $back.Terminating | Should -BeNullOrEmpty
        $after.Output | Should -Be $before.Output
    }

    It 'changes neither store with -WhatIf' {
        $homeDir = New-TestHome
        $file = Copy-Fixture 'posh-ibwapi.ps7-linux.json' $homeDir
        $bytes = [IO.File]::ReadAllBytes($file)

        $r = Invoke-FreshPwsh -HomeDir $homeDir -Environment $VaultEnv -Script @'
            Move-IBConfig -Destination Vault -WhatIf
            Copy-IBConfig -Destination Vault -WhatIf
            (Get-IBConfig -List | Measure-Object).Count
'@

        $r.Terminating | Should -BeNullOrEmpty
        $r.Output | Should -Be 0
        [IO.File]::ReadAllBytes($file) | Should -Be $bytes
        Test-Path (Join-Path $homeDir '.config/posh-ibwapi.vault') | Should -BeFalse
    }

    It 'copies chosen profiles, refuses to overwrite a different one unless -Force' {
        $homeDir = New-TestHome
        Copy-Fixture 'posh-ibwapi.ps7-linux.json' $homeDir | Out-Null

        $r = Invoke-FreshPwsh -HomeDir $homeDir -Environment $VaultEnv -Script @'
            $c = [pscredential]::new('v', (ConvertTo-SecureString 'p' -AsPlainText -Force))
            Set-IBConfig -ProfileName prod -WAPIHost vault-side.example.test -WAPIVersion 2.1 -Credential $c
            try { Copy-IBConfig Vault prod } catch { $_.FullyQualifiedErrorId }
            (Get-IBConfig prod).WAPIHost
            Copy-IBConfig Vault prod -Force -PassThru | ForEach-Object WAPIHost
            (Get-IBConfig prod).WAPIHost
            (Get-IBConfig -List).ProfileName
'@

        $r.Terminating | Should -BeNullOrEmpty
        $r.Output[0] | Should -BeLike 'ProfileExistsInDestination,*'
        $r.Output[1..4] | Should -Be @('vault-side.example.test', 'gm.example.test', 'gm.example.test', 'prod')
        (Get-Content (Get-ConfigPath $homeDir) -Raw | ConvertFrom-Json).Profiles.PSObject.Properties.Name |
            Should -Be @('lab', 'prod')
    }

    It 'refuses with a clear error when no vault is configured' {
        $r = Invoke-FreshPwsh -Script 'Copy-IBConfig -Destination Vault'

        $r.Terminating.Id | Should -BeLike 'VaultUnavailable,*'
        $r.Terminating.Message | Should -Match 'IBWAPI_VAULT_NAME'
    }
}
