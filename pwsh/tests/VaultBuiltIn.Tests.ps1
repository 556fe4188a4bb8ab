# Part B: the built-in vaults, reached by the core without SecretManagement:
# the encrypted local vault file, the kernel keyring and the Secret Service
# (scripts/test.sh runs the tests inside a private D-Bus session with an
# unlocked gnome-keyring, so these are the real services).

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $SetProfile = @'
        $c = [pscredential]::new('dom\admin', (ConvertTo-SecureString 'Pä$$ ✓ "{q}" ''x''' -AsPlainText -Force))
        Set-IBConfig -ProfileName 'lab {1} "q"' -WAPIHost gm-lab.example.test -WAPIVersion 2.12.1 `
            -Credential $c -SkipCertificateCheck -NoSession
        Set-IBConfig -ProfileName prod -WAPIHost gm.example.test -WAPIVersion 2.11 -Credential $c -NoSwitchProfile
'@
    $ShowProfiles = @'
        Get-IBConfig -List | ForEach-Object {
            '{0}|{1}|{2}|{3}|{4}|{5}|{6}' -f $_.ProfileName, $_.WAPIHost, $_.WAPIVersion,
                $_.Credential.UserName, $_.Credential.GetNetworkCredential().Password,
                $_.SkipCertificateCheck, $_.NoSession
        }
        (Get-IBConfig).ProfileName
'@
    $Expected = @(
        'lab {1} "q"|gm-lab.example.test|2.12.1|dom\admin|Pä$$ ✓ "{q}" ''x''|True|True'
        'prod|gm.example.test|2.11|dom\admin|Pä$$ ✓ "{q}" ''x''|False|False'
        'lab {1} "q"'
    )

    function Test-RoundTrip([hashtable] $Environment) {
        $homeDir = New-TestHome
        $first = Invoke-FreshPwsh -HomeDir $homeDir -Environment $Environment -Script $SetProfile
        $second = Invoke-FreshPwsh -HomeDir $homeDir -Environment $Environment -Script $ShowProfiles
        [pscustomobject]@{ First = $first; Second = $second; HomeDir = $homeDir }
    }
}

Describe 'The encrypted local vault file ([file])' {

    It 'round-trips every field through a new process, and writes no config file' {
        $r = Test-RoundTrip @{ IBWAPI_VAULT_NAME = '[file]'; IBWAPI_VAULT_PASS = 'vault pass ✓' }

        $r.First.ImportErrors | Should -BeNullOrEmpty
        $r.First.Terminating | Should -BeNullOrEmpty
        $r.Second.ImportErrors | Should -BeNullOrEmpty
        $r.Second.Output | Should -Be $Expected
        Test-Path (Get-ConfigPath $r.HomeDir) | Should -BeFalse
        $vaultFile = Join-Path $r.HomeDir '.config/posh-ibwapi.vault'
        Test-Path $vaultFile | Should -BeTrue
        [int](Get-Item $vaultFile).UnixFileMode | Should -Be ([Convert]::ToInt32('600', 8))
        [IO.File]::ReadAllText($vaultFile) | Should -Not -Match 'gm-lab|admin'
    }

    It 'uses the path after [file]' {
        $dir = New-TestHome
        $path = Join-Path $dir 'sub/profiles.vault'

        $r = Test-RoundTrip @{ IBWAPI_VAULT_NAME = "[file]$path"; IBWAPI_VAULT_PASS = 'p' }

        $r.Second.Output | Should -Be $Expected
        Test-Path $path | Should -BeTrue
    }

    It 'falls back to the config file with an error for <Case>' -ForEach @(
        @{ Case = 'a wrong password'; Pass = 'wrong'; Match = 'password' }
        @{ Case = 'no IBWAPI_VAULT_PASS'; Pass = $null; Match = 'IBWAPI_VAULT_PASS' }
    ) {
        $homeDir = New-TestHome
        $envVars = @{ IBWAPI_VAULT_NAME = '[file]'; IBWAPI_VAULT_PASS = 'right' }
        Invoke-FreshPwsh -HomeDir $homeDir -Environment $envVars -Script $SetProfile | Out-Null
        Copy-Fixture 'posh-ibwapi.ps7-linux.json' $homeDir | Out-Null
        if ($Pass) { $envVars.IBWAPI_VAULT_PASS = $Pass } else { $envVars.Remove('IBWAPI_VAULT_PASS') }

        $r = Invoke-FreshPwsh -HomeDir $homeDir -Environment $envVars -Script '(Get-IBConfig -List).ProfileName'

        ($r.ImportErrors.Message -join "`n") | Should -Match $Match
        ($r.ImportErrors.Message -join "`n") | Should -Match 'config file'
        $r.Output | Should -Be @('lab', 'prod')
    }
}

Describe 'The kernel keyring ([keyring]keyutils)' {

    It 'round-trips every field through a new process' {
        $template = 'ibcfg-test-' + [guid]::NewGuid().ToString('N') + '-{0}'
        $envVars = @{ IBWAPI_VAULT_NAME = '[keyring]keyutils'; IBWAPI_VAULT_SECRET_TEMPLATE = $template }

        try {
            $r = Test-RoundTrip $envVars

            $r.First.ImportErrors | Should -BeNullOrEmpty
            $r.Second.ImportErrors | Should -BeNullOrEmpty
            $r.Second.Output | Should -Be $Expected
            Test-Path (Get-ConfigPath $r.HomeDir) | Should -BeFalse
        } finally {
            Invoke-FreshPwsh -Environment $envVars -Script 'Remove-IBConfig -AllProfiles' | Out-Null
        }
        $left = Invoke-FreshPwsh -Environment $envVars -Script '(Get-IBConfig -List | Measure-Object).Count'
        $left.Output | Should -Be 0
    }
}

Describe 'The Secret Service ([keyring]secret-service)' {

    BeforeAll {
        if (-not $env:DBUS_SESSION_BUS_ADDRESS) {
            throw 'No D-Bus session: run the tests through scripts/test.sh, which starts one ' +
                'with an unlocked gnome-keyring (tests/support/secret-service-session.sh).'
        }
    }

    It 'round-trips every field through a new process in the <Name> collection' -ForEach @(
        @{ Name = 'default'; Vault = '[keyring]secret-service' }
        @{ Name = 'login'; Vault = '[keyring]secret-service:login' }
    ) {
        $template = 'ibcfg-test-' + [guid]::NewGuid().ToString('N') + '-{0}'
        $envVars = @{ IBWAPI_VAULT_NAME = $Vault; IBWAPI_VAULT_SECRET_TEMPLATE = $template }

        try {
            $r = Test-RoundTrip $envVars

            $r.First.ImportErrors | Should -BeNullOrEmpty
            $r.Second.ImportErrors | Should -BeNullOrEmpty
            $r.Second.Output | Should -Be $Expected
            $stored = & secret-tool lookup application posh-ibwapi name ($template -replace '\{0\}', 'prod')
            ($stored | ConvertFrom-Json).WAPIHost | Should -Be 'gm.example.test'
        } finally {
            Invoke-FreshPwsh -Environment $envVars -Script 'Remove-IBConfig -AllProfiles' | Out-Null
        }
    }

    It 'reports an unknown built-in form and uses the config file' {
        $homeDir = New-TestHome
        Copy-Fixture 'posh-ibwapi.ps7-linux.json' $homeDir | Out-Null

        $r = Invoke-FreshPwsh -HomeDir $homeDir -Environment @{ IBWAPI_VAULT_NAME = '[keyring]nosuch' } `
            -Script '(Get-IBConfig -List).ProfileName'

        ($r.ImportErrors.Message -join "`n") | Should -Match 'secret-service'
        $r.Output | Should -Be @('lab', 'prod')
    }
}
