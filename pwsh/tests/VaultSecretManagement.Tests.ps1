# A2.2 and A3 through SecretManagement: the stand-in module
# (StandIn/Microsoft.PowerShell.SecretManagement) plays the vault, in each
# child pwsh. Every case imports the module fresh, as 4.x users do.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $ShowProfiles = @'
        Get-IBConfig -List | ForEach-Object {
            [pscustomobject]@{
                ProfileName = $_.ProfileName; WAPIHost = $_.WAPIHost; WAPIVersion = $_.WAPIVersion
                User = $_.Credential.UserName
                Password = if ($_.Credential) { $_.Credential.GetNetworkCredential().Password }
                SkipCertificateCheck = $_.SkipCertificateCheck; NoSession = $_.NoSession
            }
        }
        [pscustomobject]@{ Current = (Get-IBConfig).ProfileName }
'@
    $MakeCred = @'
        function New-Cred($user, $pass) {
            [pscredential]::new($user, (ConvertTo-SecureString $pass -AsPlainText -Force))
        }
'@
    function Invoke-VaultCase {
        param([string] $Script, [string] $Options = '@{}', [hashtable] $Extra = @{},
            [switch] $Empty, [hashtable] $Environment)
        if (-not $Environment) {
            $vars = @{ IBWAPI_VAULT_NAME = 'TestVault' }
            foreach ($k in $Extra.Keys) { $vars[$k] = $Extra[$k] }
            $Environment = New-StandInEnvironment -Extra $vars
        }
        $before = Get-VaultFixtureScript -Options $Options -Empty:$Empty
        $r = Invoke-FreshPwsh -Before $before -Environment $Environment -Script ($MakeCred + $Script)
        $r | Add-Member -NotePropertyName Environment -NotePropertyValue $Environment -PassThru
    }
}

Describe 'Profiles in a SecretManagement vault' {

    It 'loads the secrets Posh-IBWAPI 4.x wrote, ignoring unrelated ones' {
        $r = Invoke-VaultCase -Script $ShowProfiles

        $r.ImportErrors | Should -BeNullOrEmpty
        $r.ImportWarnings | Should -BeNullOrEmpty
        $profiles = $r.Output | Where-Object ProfileName
        $profiles.ProfileName | Should -Be @('lab', 'old', 'prod')
        ($r.Output | Where-Object Current).Current | Should -Be 'prod'
        $prod = $profiles | Where-Object ProfileName -EQ 'prod'
        $prod.Password | Should -BeExactly 's3cr3t!'
        $prod.NoSession | Should -BeTrue
        ($profiles | Where-Object ProfileName -EQ 'lab').Password | Should -BeExactly 'lab pass ✓'
        $old = $profiles | Where-Object ProfileName -EQ 'old'
        $old.SkipCertificateCheck | Should -BeFalse
        $old.NoSession | Should -BeFalse
        $old.User | Should -Be 'ro-user'
    }

    It 'writes secrets that 4.x reads: one compact JSON object per profile' {
        $r = Invoke-VaultCase -Empty -Script @'
            Set-IBConfig -ProfileName 'new one' -WAPIHost h.example.test -WAPIVersion 2.12 `
                -Credential (New-Cred admin 'Pä$$ "{q}"') -SkipCertificateCheck
            Get-Secret -Vault TestVault -Name 'poshibwapi-new one' -AsPlainText
'@

        $r.Terminating | Should -BeNullOrEmpty
        $r.Output | Should -HaveCount 1
        $r.Output[0] | Should -BeExactly ('{"WAPIHost":"h.example.test","WAPIVersion":"2.12",' +
            '"Credential":{"Username":"admin","Password":"Pä$$ \"{q}\""},' +
            '"SkipCertificateCheck":true,"NoSession":false,"Current":true}')
        $parsed = $r.Output[0] | ConvertFrom-Json
        $parsed.Credential.Password | Should -BeExactly 'Pä$$ "{q}"'
        Test-Path (Get-ConfigPath $r.HomeDir) | Should -BeFalse
    }

    It 'round-trips every field through a fresh import in a new process' {
        $envVars = New-StandInEnvironment -Extra @{ IBWAPI_VAULT_NAME = 'TestVault' }
        $homeDir = New-TestHome
        Invoke-FreshPwsh -HomeDir $homeDir -Environment $envVars -Before (Get-VaultFixtureScript -Empty) -Script ($MakeCred + @'
            Set-IBConfig -ProfileName 'Ünï {c} "q"' -WAPIHost gm.example.test -WAPIVersion 2.11.3 `
                -Credential (New-Cred 'dom\u' 'pw ✓ ''"{}') -NoSession
'@) | Out-Null

        $r = Invoke-FreshPwsh -HomeDir $homeDir -Environment $envVars -Script $ShowProfiles

        $r.ImportErrors | Should -BeNullOrEmpty
        $p = $r.Output | Where-Object ProfileName
        $p.ProfileName | Should -BeExactly 'Ünï {c} "q"'
        $p.WAPIHost | Should -Be 'gm.example.test'
        $p.WAPIVersion | Should -Be '2.11.3'
        $p.User | Should -Be 'dom\u'
        $p.Password | Should -BeExactly 'pw ✓ ''"{}'
        $p.NoSession | Should -BeTrue
        $p.SkipCertificateCheck | Should -BeFalse
        ($r.Output | Where-Object Current).Current | Should -BeExactly 'Ünï {c} "q"'
    }

    It 'writes only the secrets that changed' {
        $r = Invoke-VaultCase -Script @'
            $null = Get-StandInCallCount -Reset
            Set-IBConfig -WAPIHost changed.example.test
            (Get-StandInCallCount -Vault TestVault)['Set-Secret']
            $null = Get-StandInCallCount -Reset
            Set-IBConfig -ProfileName lab -WAPIVersion 2.12
            $c = Get-StandInCallCount -Vault TestVault -Reset
            $c['Set-Secret']; [int]$c['Remove-Secret']
            (Get-Secret -Vault TestVault -Name poshibwapi-prod -AsPlainText | ConvertFrom-Json).Current
            Set-IBConfig -ProfileName lab -NewName lab2
            $c = Get-StandInCallCount -Vault TestVault -Reset
            $c['Set-Secret']; $c['Remove-Secret']
            @(Get-SecretInfo -Vault TestVault -Name 'poshibwapi-lab*').Name -join ','
'@

        $r.Terminating | Should -BeNullOrEmpty
        # an edit of the current profile: one write; switching current: two; a rename: write + remove
        $r.Output | Should -Be @(1, 2, 0, $false, 1, 1, 'poshibwapi-lab2')
    }

    It 'removes the secrets of removed profiles, and only those' {
        $r = Invoke-VaultCase -Script @'
            Remove-IBConfig lab
            @(Get-SecretInfo -Vault TestVault).Name -join ','
            Remove-IBConfig -AllProfiles
            @(Get-SecretInfo -Vault TestVault).Name -join ','
            (Get-IBConfig -List | Measure-Object).Count
'@

        $r.Terminating | Should -BeNullOrEmpty
        $r.Output | Should -Be @('poshibwapi-old,poshibwapi-prod,unrelated-secret', 'unrelated-secret', 0)
    }

    It 'moves Current to the next profile by name when the current one is removed' {
        $r = Invoke-VaultCase -Script @'
            Remove-IBConfig
            (Get-IBConfig).ProfileName
            (Get-Secret -Vault TestVault -Name poshibwapi-lab -AsPlainText | ConvertFrom-Json).Current
'@

        $r.Output | Should -Be @('lab', $true)
    }

    It 'uses IBWAPI_VAULT_SECRET_TEMPLATE <Template> (names as <Secret>)' -ForEach @(
        @{ Template = 'ib.[x]*{0}?é'; Secret = 'ib.[x]*prod 1?é' }
        @{ Template = 'prefix-'; Secret = 'prefix-prod 1' }
        @{ Template = '{0}.json'; Secret = 'prod 1.json' }
    ) {
        $envVars = New-StandInEnvironment -Extra @{
            IBWAPI_VAULT_NAME = 'TestVault'; IBWAPI_VAULT_SECRET_TEMPLATE = $Template
        }
        $homeDir = New-TestHome
        $first = Invoke-FreshPwsh -HomeDir $homeDir -Environment $envVars -Before (Get-VaultFixtureScript -Empty) -Script ($MakeCred + @'
            Set-IBConfig -ProfileName 'prod 1' -WAPIHost h -WAPIVersion 2.1 -Credential (New-Cred u p)
            Set-Secret -Vault TestVault -Name 'not-matching' -Secret 'x'
            (Get-SecretInfo -Vault TestVault).Name
'@)

        $r = Invoke-FreshPwsh -HomeDir $homeDir -Environment $envVars -Script '(Get-IBConfig -List).ProfileName'

        $first.Output | Should -Contain $Secret
        $r.ImportErrors | Should -BeNullOrEmpty
        $r.Output | Should -Be @('prod 1')
    }
}

Describe 'Falling back to the config file (A2.2)' {

    BeforeAll {
        $FileProfiles = '(Get-IBConfig -List).ProfileName'
        function Invoke-FallbackCase([hashtable] $Environment, [string] $Before = '') {
            $homeDir = New-TestHome
            Copy-Fixture 'posh-ibwapi.ps7-linux.json' $homeDir | Out-Null
            Invoke-FreshPwsh -HomeDir $homeDir -Environment $Environment -Before $Before -Script $FileProfiles
        }
    }

    It 'uses the file when IBWAPI_VAULT_NAME is <Case>' -ForEach @(
        @{ Case = 'unset'; Value = $null }, @{ Case = 'blank'; Value = '   ' }
    ) {
        $envVars = New-StandInEnvironment
        if ($null -ne $Value) { $envVars.IBWAPI_VAULT_NAME = $Value }

        $r = Invoke-FallbackCase $envVars (Get-VaultFixtureScript)

        $r.ImportErrors | Should -BeNullOrEmpty
        $r.Output | Should -Be @('lab', 'prod')
    }

    It 'reports <Case> as an error, imports, and uses the file' -ForEach @(
        @{ Case = 'a missing SecretManagement module'; Options = $null; Pass = $null; Match = 'SecretManagement' }
        @{ Case = 'a wrong IBWAPI_VAULT_PASS'; Options = "@{ Password = 'right' }"; Pass = 'wrong'; Match = 'TestVault' }
        @{ Case = 'a locked vault without IBWAPI_VAULT_PASS'; Options = "@{ Password = 'right' }"; Pass = $null; Match = 'TestVault' }
        @{ Case = 'a failing vault test'; Options = '@{ FailTest = $true }'; Pass = $null; Match = 'TestVault' }
        @{ Case = 'an unknown vault'; Options = '@{}'; Pass = $null; Match = 'NoSuchVault'; Vault = 'NoSuchVault' }
    ) {
        $envVars = if ($null -eq $Options) {
            @{ IBWAPI_VAULT_NAME = 'TestVault'; PSModulePath = (New-TestHome) }
        } else {
            New-StandInEnvironment -Extra @{ IBWAPI_VAULT_NAME = if ($Vault) { $Vault } else { 'TestVault' } }
        }
        if ($Pass) { $envVars.IBWAPI_VAULT_PASS = $Pass }
        # The fixture vault is made (and unlocked) in another process, so this one starts locked.
        if ($null -ne $Options) {
            Invoke-FreshPwsh -NoImport -Environment $envVars -Script (Get-VaultFixtureScript -Options $Options) | Out-Null
        }

        $r = Invoke-FallbackCase $envVars

        $r.ImportErrors | Should -Not -BeNullOrEmpty
        ($r.ImportErrors.Message -join "`n") | Should -Match $Match
        ($r.ImportErrors.Message -join "`n") | Should -Match 'config file'
        $r.Output | Should -Be @('lab', 'prod')
    }

    It 'unlocks a locked vault with IBWAPI_VAULT_PASS' {
        $envVars = New-StandInEnvironment -Extra @{ IBWAPI_VAULT_NAME = 'TestVault'; IBWAPI_VAULT_PASS = 'right' }
        Invoke-FreshPwsh -NoImport -Environment $envVars -Script (Get-VaultFixtureScript -Options "@{ Password = 'right' }") | Out-Null

        $r = Invoke-FreshPwsh -Environment $envVars -Script '(Get-IBConfig -List).ProfileName'

        $r.ImportErrors | Should -BeNullOrEmpty
        $r.Output | Should -Be @('lab', 'old', 'prod')
    }

    It 'reports an unreadable secret by name and loads the others' {
        $r = Invoke-VaultCase -Options "@{ BrokenSecrets = @('poshibwapi-lab') }" -Script '(Get-IBConfig -List).ProfileName'

        ($r.ImportErrors.Message -join "`n") | Should -Match 'poshibwapi-lab'
        $r.Output | Should -Be @('old', 'prod')
    }
}

Describe 'Clear errors before damage' {

    It 'refuses a name an Azure Key Vault would refuse, before writing anything' {
        $envVars = New-StandInEnvironment -Extra @{ IBWAPI_VAULT_NAME = 'AzVault' }
        $before = @'
            Import-Module Microsoft.PowerShell.SecretManagement
            Register-SecretVault -Name AzVault -ModuleName Az.KeyVault -VaultParameters @{ NamePattern = '^[0-9a-zA-Z-]+$' }
'@
        $r = Invoke-FreshPwsh -Environment $envVars -Before $before -Script ($MakeCred + @'
            $null = Get-StandInCallCount -Reset
            Set-IBConfig -ProfileName 'bad name_1' -WAPIHost h -WAPIVersion 2.1 -Credential (New-Cred u p)
'@)

        $r.Terminating.Id | Should -BeLike 'VaultSecretNameRefused,*'
        $r.Terminating.Category | Should -Be 'InvalidArgument'
        $r.Terminating.Message | Should -Match 'poshibwapi-bad name_1'
        $r.Terminating.Message | Should -Match 'letter.*digit'
        $check = Invoke-FreshPwsh -NoImport -Environment $envVars -Script '(Get-StandInCallCount -Vault AzVault)["Set-Secret"]; @(Get-SecretInfo -Vault AzVault).Count'
        $check.Output | Should -Be @($null, 0)
    }

    It 'says what to do about a read-only vault, and keeps the profiles as they were' {
        $r = Invoke-VaultCase -Script @'
            Set-StandInVaultOption -Vault TestVault -Option @{ ReadOnly = $true }
            try { Set-IBConfig -ProfileName lab -WAPIHost changed.example.test }
            catch { $_.FullyQualifiedErrorId; "$($_.CategoryInfo.Category)"; $_.Exception.Message }
            (Get-IBConfig lab).WAPIHost
            (Get-Secret -Vault TestVault -Name poshibwapi-lab -AsPlainText | ConvertFrom-Json).WAPIHost
'@

        $r.Output[0] | Should -BeLike 'VaultReadOnly,*'
        $r.Output[1] | Should -Be 'PermissionDenied'
        $r.Output[2] | Should -Match 'read-only'
        $r.Output[2] | Should -Match 'IBWAPI_VAULT_NAME'
        $r.Output[3..4] | Should -Be @('gm-lab.example.test', 'gm-lab.example.test')
    }

    It 'says what to do about a name held by a soft-deleted secret' {
        $r = Invoke-VaultCase -Options '@{ SoftDelete = $true }' -Script @'
            Remove-IBConfig lab
            Set-IBConfig -ProfileName lab -WAPIHost h -WAPIVersion 2.1 -Credential (New-Cred u p)
'@

        $r.Terminating.Id | Should -BeLike 'VaultSecretNameBlocked,*'
        $r.Terminating.Message | Should -Match 'poshibwapi-lab'
        $r.Terminating.Message | Should -Match 'purge|recover'
    }
}
