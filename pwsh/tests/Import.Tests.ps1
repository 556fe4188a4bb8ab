# A2: where profiles come from, decided once at import (environment profile,
# then the config file; the vault comes with issue 3).

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $ProfileProps = 'ProfileName,WAPIHost,WAPIVersion,SkipCertificateCheck,NoSession'
    $ShowProfiles = @"
    Get-IBConfig -List | ForEach-Object {
        [pscustomobject]@{
            ProfileName = `$_.ProfileName; WAPIHost = `$_.WAPIHost; WAPIVersion = `$_.WAPIVersion
            User = `$_.Credential.UserName
            Password = if (`$_.Credential) { `$_.Credential.GetNetworkCredential().Password }
            SkipCertificateCheck = `$_.SkipCertificateCheck; NoSession = `$_.NoSession
        }
    }
    [pscustomobject]@{ Current = (Get-IBConfig).ProfileName }
"@
}

Describe 'The config file (A2.3)' {

    It 'loads a PowerShell 7 file with Base64 UTF-16LE passwords' {
        $homeDir = New-TestHome
        Copy-Fixture 'posh-ibwapi.ps7-linux.json' $homeDir | Out-Null

        $r = Invoke-FreshPwsh -HomeDir $homeDir -Script $ShowProfiles

        $r.ImportWarnings | Should -BeNullOrEmpty
        $profiles = $r.Output | Where-Object ProfileName
        $profiles.ProfileName | Should -Be @('lab', 'prod')
        ($r.Output | Where-Object Current).Current | Should -Be 'lab'
        $prod = $profiles | Where-Object ProfileName -EQ 'prod'
        $prod.Password | Should -BeExactly 'Pä$$ wörd ✓ "quoted"'
        $prod.User | Should -Be 'svc-ipam'
        $prod.NoSession | Should -BeTrue
        $prod.WAPIVersion | Should -Be '2.11.3'
        ($profiles | Where-Object ProfileName -EQ 'lab').SkipCertificateCheck | Should -BeTrue
    }

    It 'loads a Windows PowerShell 5.1 file (BOM, CRLF, DPAPI) with a warning naming each profile' {
        $homeDir = New-TestHome
        Copy-Fixture 'posh-ibwapi.ps51-windows.json' $homeDir | Out-Null

        $r = Invoke-FreshPwsh -HomeDir $homeDir -Script $ShowProfiles

        $r.ImportWarnings.Count | Should -Be 2
        $r.ImportWarnings | Where-Object { $_ -match "'prod'" } | Should -HaveCount 1
        $r.ImportWarnings | Where-Object { $_ -match "'lab'" } | Should -HaveCount 1
        $r.ImportWarnings | ForEach-Object { $_ | Should -Match 'Windows' }
        $profiles = $r.Output | Where-Object ProfileName
        $profiles.ProfileName | Should -Be @('lab', 'prod')
        $profiles | ForEach-Object { $_.User | Should -BeNullOrEmpty }
        ($profiles | Where-Object ProfileName -EQ 'prod').WAPIHost | Should -Be 'gm.example.test'
        ($profiles | Where-Object ProfileName -EQ 'lab').WAPIVersion | Should -Be '2.5'
        ($r.Output | Where-Object Current).Current | Should -Be 'prod'
    }

    It 'keeps a Windows DPAPI password intact when another profile is saved on Linux' {
        $homeDir = New-TestHome
        $file = Copy-Fixture 'posh-ibwapi.ps51-windows.json' $homeDir
        $before = (Get-Content $file -Raw | ConvertFrom-Json).Profiles.prod.Credential.Password

        $r = Invoke-FreshPwsh -HomeDir $homeDir -Script @'
            $c = [pscredential]::new('u', (ConvertTo-SecureString 'p' -AsPlainText -Force))
            Set-IBConfig -ProfileName extra -WAPIHost h.example.test -WAPIVersion 2.12 -Credential $c
'@

        $r.Terminating | Should -BeNullOrEmpty
        $after = Get-Content $file -Raw | ConvertFrom-Json
        $after.Profiles.prod.Credential.Password | Should -BeExactly $before
        $after.Profiles.prod.Credential.PSObject.Properties.Name | Should -Not -Contain 'IsBase64'
        $after.Profiles.extra.WAPIHost | Should -Be 'h.example.test'
    }

    It 'loads an older file with missing fields: none current, flags false, no credential' {
        $homeDir = New-TestHome
        Copy-Fixture 'posh-ibwapi.older.json' $homeDir | Out-Null

        $r = Invoke-FreshPwsh -HomeDir $homeDir -Script $ShowProfiles

        $r.ImportWarnings | Should -BeNullOrEmpty
        $profiles = $r.Output | Where-Object ProfileName
        $profiles.ProfileName | Should -Be @('legacy', 'nocred')
        ($r.Output | Where-Object Current) | Should -BeNullOrEmpty
        $legacy = $profiles | Where-Object ProfileName -EQ 'legacy'
        $legacy.Password | Should -BeExactly 'legacy-pass'
        $legacy.SkipCertificateCheck | Should -BeFalse
        $legacy.NoSession | Should -BeFalse
        $nocred = $profiles | Where-Object ProfileName -EQ 'nocred'
        $nocred.User | Should -BeNullOrEmpty
        $nocred.SkipCertificateCheck | Should -BeTrue
    }

    It 'warns about a truncated file, still imports, and keeps the damaged file' {
        $homeDir = New-TestHome
        $file = Copy-Fixture 'posh-ibwapi.truncated.json' $homeDir
        $damaged = Get-Content $file -Raw

        $r = Invoke-FreshPwsh -HomeDir $homeDir -Script @'
            (Get-IBConfig -List | Measure-Object).Count
            Get-Command Get-IBConfig, Set-IBConfig, Remove-IBConfig | ForEach-Object Name
'@

        $r.ImportWarnings | Should -HaveCount 1
        $r.ImportWarnings[0] | Should -Match 'posh-ibwapi\.json'
        $r.Output[0] | Should -Be 0
        $r.Output | Should -Contain 'Set-IBConfig'
        Get-Content $file -Raw | Should -BeExactly $damaged
    }

    It 'moves a damaged file aside instead of overwriting it on the next save' {
        $homeDir = New-TestHome
        $file = Copy-Fixture 'posh-ibwapi.truncated.json' $homeDir
        $damaged = Get-Content $file -Raw

        $r = Invoke-FreshPwsh -HomeDir $homeDir -Script @'
            $c = [pscredential]::new('u', (ConvertTo-SecureString 'p' -AsPlainText -Force))
            Set-IBConfig -ProfileName new -WAPIHost h.example.test -WAPIVersion 2.12 -Credential $c
'@

        $r.Terminating | Should -BeNullOrEmpty
        $aside = Get-ChildItem (Split-Path $file) -Filter 'posh-ibwapi.json.corrupt-*'
        $aside | Should -HaveCount 1
        Get-Content $aside.FullName -Raw | Should -BeExactly $damaged
        (Get-Content $file -Raw | ConvertFrom-Json).Profiles.new.WAPIHost | Should -Be 'h.example.test'
        $r.Warnings | Where-Object { $_ -match [regex]::Escape($aside.Name) } | Should -Not -BeNullOrEmpty
    }

    It 'shows a profile whose password no credential can hold, without the credential' {
        $homeDir = New-TestHome
        $file = Get-ConfigPath $homeDir
        New-Item -ItemType Directory -Force (Split-Path $file) | Out-Null
        $long = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes('Z' * 70000))
        $ok = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes('fine'))
        @{ CurrentProfile = 'big'; Profiles = @{
            big = @{ WAPIHost = 'h1'; WAPIVersion = '2.12'
                Credential = @{ Username = 'u'; Password = $long; IsBase64 = $true } }
            ok = @{ WAPIHost = 'h2'; WAPIVersion = '2.12'
                Credential = @{ Username = 'u'; Password = $ok; IsBase64 = $true } }
        } } | ConvertTo-Json -Depth 5 | Set-Content $file

        $r = Invoke-FreshPwsh -HomeDir $homeDir -Script @'
            Get-IBConfig -List | ForEach-Object { $_.ProfileName + '|' + [bool]$_.Credential }
'@

        $r.Terminating | Should -BeNullOrEmpty
        $r.Output | Should -Be @('big|False', 'ok|True')
        $r.Warnings | Should -HaveCount 1
        $r.Warnings[0] | Should -Match "'big'"
    }

    It 'reads $HOME/.config, not XDG_CONFIG_HOME' {
        $homeDir = New-TestHome
        Copy-Fixture 'posh-ibwapi.ps7-linux.json' $homeDir | Out-Null
        $xdg = New-TestHome

        $r = Invoke-FreshPwsh -HomeDir $homeDir -Environment @{ XDG_CONFIG_HOME = $xdg } `
            -Script '(Get-IBConfig -List).ProfileName'

        $r.Output | Should -Be @('lab', 'prod')
    }

    It 'has no profiles and no warning when there is no file' {
        $r = Invoke-FreshPwsh -Script '(Get-IBConfig -List | Measure-Object).Count; Get-IBConfig'

        $r.ImportWarnings | Should -BeNullOrEmpty
        $r.Output | Should -Be @(0)
    }
}

Describe 'The environment profile (A2.1)' {

    BeforeAll {
        $FullEnv = @{
            IBWAPI_HOST = 'gm-env.example.test'; IBWAPI_VERSION = '2.12.1'
            IBWAPI_USERNAME = 'env-user'; IBWAPI_PASSWORD = 'env "pa$$" {word}'
        }
    }

    It 'is the only profile, named ENV and current, and hides the file' {
        $homeDir = New-TestHome
        Copy-Fixture 'posh-ibwapi.ps7-linux.json' $homeDir | Out-Null

        $r = Invoke-FreshPwsh -HomeDir $homeDir -Environment $FullEnv -Script $ShowProfiles

        $r.ImportWarnings | Should -BeNullOrEmpty
        $p = $r.Output | Where-Object ProfileName
        $p.ProfileName | Should -Be 'ENV'
        $p.WAPIHost | Should -Be 'gm-env.example.test'
        $p.WAPIVersion | Should -Be '2.12.1'
        $p.User | Should -Be 'env-user'
        $p.Password | Should -BeExactly 'env "pa$$" {word}'
        $p.SkipCertificateCheck | Should -BeFalse
        $p.NoSession | Should -BeFalse
        ($r.Output | Where-Object Current).Current | Should -Be 'ENV'
    }

    It 'reads <Value> in IBWAPI_SKIPCERTCHECK and IBWAPI_NOSESSION as <Expected>' -ForEach @(
        @{ Value = 'False'; Expected = $false }, @{ Value = 'fAlSe'; Expected = $false }
        @{ Value = '0'; Expected = $false }, @{ Value = 'no'; Expected = $false }
        @{ Value = 'NO'; Expected = $false }, @{ Value = 'True'; Expected = $true }
        @{ Value = '1'; Expected = $true }, @{ Value = 'yes'; Expected = $true }
        @{ Value = 'off'; Expected = $true }, @{ Value = ' '; Expected = $true }
    ) {
        $envVars = $FullEnv.Clone()
        $envVars.IBWAPI_SKIPCERTCHECK = $Value
        $envVars.IBWAPI_NOSESSION = $Value

        $r = Invoke-FreshPwsh -Environment $envVars -Script '$p = Get-IBConfig; $p.SkipCertificateCheck; $p.NoSession'

        $r.Output | Should -Be @($Expected, $Expected)
    }

    It 'is not used when <Missing> is <State>, with one warning naming it' -ForEach @(
        @{ Missing = 'IBWAPI_VERSION'; State = 'unset'; Value = $null }
        @{ Missing = 'IBWAPI_VERSION'; State = 'invalid'; Value = 'v2' }
        @{ Missing = 'IBWAPI_VERSION'; State = 'one part'; Value = '2' }
        @{ Missing = 'IBWAPI_USERNAME'; State = 'blank'; Value = '  ' }
        @{ Missing = 'IBWAPI_USERNAME'; State = 'unset'; Value = $null }
        @{ Missing = 'IBWAPI_PASSWORD'; State = 'unset'; Value = $null }
        @{ Missing = 'IBWAPI_PASSWORD'; State = 'blank'; Value = ' ' }
    ) {
        $homeDir = New-TestHome
        Copy-Fixture 'posh-ibwapi.ps7-linux.json' $homeDir | Out-Null
        $envVars = $FullEnv.Clone()
        if ($null -eq $Value) { $envVars.Remove($Missing) } else { $envVars[$Missing] = $Value }

        $r = Invoke-FreshPwsh -HomeDir $homeDir -Environment $envVars -Script '(Get-IBConfig -List).ProfileName'

        $r.ImportWarnings | Should -HaveCount 1
        $r.ImportWarnings[0] | Should -Match $Missing
        $r.Output | Should -Be @('lab', 'prod')
    }

    It 'does not apply when IBWAPI_HOST is blank' {
        $envVars = $FullEnv.Clone()
        $envVars.IBWAPI_HOST = '   '

        $r = Invoke-FreshPwsh -Environment $envVars -Script '(Get-IBConfig -List | Measure-Object).Count'

        $r.ImportWarnings | Should -BeNullOrEmpty
        $r.Output | Should -Be @(0)
    }

    It 'is used when the variables are set with $env: in the same pwsh before import' {
        $r = Invoke-FreshPwsh -NoImport -Script @"
            `$env:IBWAPI_HOST = 'gm-set.example.test'; `$env:IBWAPI_VERSION = '2.9'
            `$env:IBWAPI_USERNAME = 'u'; `$env:IBWAPI_PASSWORD = 'p'; `$env:IBWAPI_NOSESSION = 'yes'
            Import-Module '$env:IBCONFIG_TEST_MODULE'
            `$p = Get-IBConfig
            `$p.ProfileName; `$p.WAPIHost; `$p.NoSession
"@

        $r.Output | Should -Be @('ENV', 'gm-set.example.test', $true)
    }

    It 'makes Set-IBConfig and Remove-IBConfig warn and change nothing' {
        $homeDir = New-TestHome
        $file = Copy-Fixture 'posh-ibwapi.ps7-linux.json' $homeDir
        $before = Get-Content $file -Raw

        $r = Invoke-FreshPwsh -HomeDir $homeDir -Environment $FullEnv -Script @'
            Set-IBConfig -ProfileName other -WAPIHost x.example.test
            Remove-IBConfig
            Remove-IBConfig -AllProfiles
            'ENV', 'ENV' | Remove-IBConfig
            (Get-IBConfig).ProfileName
'@

        $r.Terminating | Should -BeNullOrEmpty
        $r.Warnings | Should -HaveCount 4
        $r.Warnings | Select-Object -First 1 | Should -Match 'Set-IBConfig'
        $r.Warnings | Select-Object -Skip 1 | ForEach-Object { $_ | Should -Match 'Remove-IBConfig' }
        $r.Output | Should -Be 'ENV'
        Get-Content $file -Raw | Should -BeExactly $before
    }
}
