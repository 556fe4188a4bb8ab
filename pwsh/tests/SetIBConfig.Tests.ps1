# A4: Set-IBConfig, and A3: what it writes to the config file.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $MakeCred = @'
        function New-Cred($user, $pass) {
            [pscredential]::new($user, (ConvertTo-SecureString $pass -AsPlainText -Force))
        }
'@
}

Describe 'Set-IBConfig' {

    It 'creates a profile, makes it current and saves the 4.x file format' {
        $r = Invoke-FreshPwsh -Script ($MakeCred + @'
            Set-IBConfig -ProfileName lab -WAPIHost gm-lab.example.test -WAPIVersion 2.12 `
                -Credential (New-Cred admin 'Pä$$ wörd ✓ "quoted" {x}') -SkipCertificateCheck
            (Get-IBConfig).ProfileName
'@)

        $r.Terminating | Should -BeNullOrEmpty
        $r.Output | Should -Be 'lab'
        $file = Get-ConfigPath $r.HomeDir
        $json = Get-Content $file -Raw | ConvertFrom-Json
        $json.PSObject.Properties.Name | Should -Be @('CurrentProfile', 'Profiles')
        $json.CurrentProfile | Should -Be 'lab'
        $lab = $json.Profiles.lab
        $lab.PSObject.Properties.Name |
            Should -Be @('WAPIHost', 'WAPIVersion', 'Credential', 'SkipCertificateCheck', 'NoSession')
        $lab.Credential.PSObject.Properties.Name | Should -Be @('Username', 'Password', 'IsBase64')
        $lab.Credential.IsBase64 | Should -BeTrue
        $bytes = [Convert]::FromBase64String($lab.Credential.Password)
        [Text.Encoding]::Unicode.GetString($bytes) | Should -BeExactly 'Pä$$ wörd ✓ "quoted" {x}'
        $lab.SkipCertificateCheck | Should -BeTrue
        $lab.NoSession | Should -BeFalse
        [IO.File]::ReadAllBytes($file)[0] | Should -Be ([byte][char]'{')
    }

    It 'writes a file that PowerShell 7 formats the same way (ConvertTo-Json round trip)' {
        $r = Invoke-FreshPwsh -Script ($MakeCred + @'
            Set-IBConfig -ProfileName a -WAPIHost h1 -WAPIVersion 2.1 -Credential (New-Cred u1 p1)
            Set-IBConfig -ProfileName b -WAPIHost h2 -WAPIVersion 2.2 -Credential (New-Cred u2 p2) -NoSession
'@)

        $file = Get-ConfigPath $r.HomeDir
        $text = (Get-Content $file -Raw) -replace "`r`n", "`n"
        $again = ($text | ConvertFrom-Json | ConvertTo-Json -Depth 5) + "`n"
        $text | Should -BeExactly $again
    }

    It 'reads back every field in a fresh process' {
        $homeDir = New-TestHome
        Invoke-FreshPwsh -HomeDir $homeDir -Script ($MakeCred + @'
            Set-IBConfig -ProfileName 'we{ir}d "name" $x' -WAPIHost 'h.example.test' -WAPIVersion 2.11.3 `
                -Credential (New-Cred 'dom\user' 'pa''ss"{}') -SkipCertificateCheck -NoSession
'@) | Out-Null

        $r = Invoke-FreshPwsh -HomeDir $homeDir -Script @'
            $p = Get-IBConfig
            $p.ProfileName; $p.WAPIHost; $p.WAPIVersion; $p.Credential.UserName
            $p.Credential.GetNetworkCredential().Password; $p.SkipCertificateCheck; $p.NoSession
'@

        $r.Output | Should -Be @('we{ir}d "name" $x', 'h.example.test', '2.11.3', 'dom\user',
            'pa''ss"{}', $true, $true)
    }

    It 'edits the current profile when -ProfileName is left out' {
        $r = Invoke-FreshPwsh -Script ($MakeCred + @'
            Set-IBConfig -ProfileName lab -WAPIHost h1 -WAPIVersion 2.1 -Credential (New-Cred u p)
            Set-IBConfig -WAPIHost h2
            $p = Get-IBConfig; $p.ProfileName; $p.WAPIHost
'@)

        $r.Output | Should -Be @('lab', 'h2')
    }

    It 'fails with no -ProfileName and no current profile' {
        $r = Invoke-FreshPwsh -Script 'Set-IBConfig -WAPIHost h1'

        $r.Terminating.Id | Should -BeLike 'NoCurrentProfile,*'
        $r.Terminating.Category | Should -Be 'InvalidArgument'
    }

    It 'needs <Missing> for a new profile, checked in order host, credential, version' -ForEach @(
        @{ Missing = 'WAPIHost'; Arguments = '-WAPIVersion 2.1' }
        @{ Missing = 'Credential'; Arguments = '-WAPIHost h -WAPIVersion 2.1' }
        @{ Missing = 'WAPIVersion'; Arguments = '-WAPIHost h -Credential (New-Cred u p)' }
    ) {
        $r = Invoke-FreshPwsh -Script ($MakeCred + "Set-IBConfig -ProfileName new $Arguments")

        $r.Terminating.Id | Should -BeLike 'MissingProfileField,*'
        $r.Terminating.Category | Should -Be 'InvalidArgument'
        $r.Terminating.Message | Should -Match $Missing
        Test-Path (Get-ConfigPath $r.HomeDir) | Should -BeFalse
    }

    It 'rejects ENV as -<Param>' -ForEach @(
        @{ Param = 'ProfileName'; Arguments = '-ProfileName ENV -WAPIHost h -WAPIVersion 2.1 -Credential (New-Cred u p)' }
        @{ Param = 'ProfileName (any case)'; Arguments = '-ProfileName env -WAPIHost h -WAPIVersion 2.1 -Credential (New-Cred u p)' }
        @{ Param = 'NewName'; Arguments = '-ProfileName a -WAPIHost h -WAPIVersion 2.1 -Credential (New-Cred u p) -NewName ENV' }
    ) {
        $r = Invoke-FreshPwsh -Script ($MakeCred + "Set-IBConfig $Arguments")

        $r.Terminating.Id | Should -BeLike 'ReservedProfileName,*'
        $r.Terminating.Category | Should -Be 'InvalidArgument'
        Test-Path (Get-ConfigPath $r.HomeDir) | Should -BeFalse
    }

    It 'rejects a blank -<Param> at parameter binding' -ForEach @(
        @{ Param = 'ProfileName' }, @{ Param = 'WAPIHost' }, @{ Param = 'WAPIVersion' }, @{ Param = 'NewName' }
    ) {
        $r = Invoke-FreshPwsh -Script "Set-IBConfig -$Param '  '"

        $r.Terminating.Id | Should -BeLike 'ParameterArgumentValidationError,*'
    }

    It 'rejects WAPI version <Version>' -ForEach @(
        @{ Version = '2' }, @{ Version = 'v2.12' }, @{ Version = '1.2.3.4.5' }, @{ Version = '2.x' }
    ) {
        $r = Invoke-FreshPwsh -Script "Set-IBConfig -ProfileName a -WAPIVersion '$Version'"

        $r.Terminating.Id | Should -BeLike 'ParameterArgumentValidationError,*'
    }

    It 'fails -WAPIVersion latest naming the host when the grid cannot be reached, saving nothing' {
        # Port 1 on loopback: nothing listens there, so the connection is refused at once.
        $r = Invoke-FreshPwsh -Script ($MakeCred + @'
            Set-IBConfig -ProfileName a -WAPIHost 127.0.0.1:1 -WAPIVersion latest -Credential (New-Cred u p)
'@)

        $r.Terminating.Id | Should -BeLike 'WAPIVersionQueryFailed,*'
        $r.Terminating.Category | Should -Be 'ConnectionError'
        $r.Terminating.Message | Should -Match '127\.0\.0\.1:1'
        Test-Path (Get-ConfigPath $r.HomeDir) | Should -BeFalse
    }

    It 'names the missing host before asking any grid for latest' {
        $r = Invoke-FreshPwsh -Script ($MakeCred + @'
            Set-IBConfig -ProfileName a -WAPIVersion latest -Credential (New-Cred u p)
'@)

        $r.Terminating.Id | Should -BeLike 'MissingProfileField,*'
        $r.Terminating.Message | Should -Match 'WAPIHost'
    }

    It 'turns flags off with -Switch:$false and keeps them when left out' {
        $r = Invoke-FreshPwsh -Script ($MakeCred + @'
            Set-IBConfig -ProfileName a -WAPIHost h -WAPIVersion 2.1 -Credential (New-Cred u p) -SkipCertificateCheck -NoSession
            Set-IBConfig -WAPIHost h2
            $p = Get-IBConfig; $p.SkipCertificateCheck; $p.NoSession
            Set-IBConfig -SkipCertificateCheck:$false
            $p = Get-IBConfig; $p.SkipCertificateCheck; $p.NoSession
            Set-IBConfig -NoSession:$false
            $p = Get-IBConfig; $p.SkipCertificateCheck; $p.NoSession
'@)

        $r.Output | Should -Be @($true, $true, $false, $true, $false, $false)
    }

    It 'edits an existing profile whatever the letter case, keeping the first spelling' {
        $r = Invoke-FreshPwsh -Script ($MakeCred + @'
            Set-IBConfig -ProfileName prod -WAPIHost h1 -WAPIVersion 2.1 -Credential (New-Cred u p)
            Set-IBConfig -ProfileName PROD -WAPIHost h2
            (Get-IBConfig -List).ProfileName; (Get-IBConfig PROD).WAPIHost; (Get-IBConfig).ProfileName
'@)

        $r.Output | Should -Be @('prod', 'h2', 'prod')
        (Get-Content (Get-ConfigPath $r.HomeDir) -Raw | ConvertFrom-Json).CurrentProfile | Should -BeExactly 'prod'
    }

    It 'renames with -NewName' {
        $r = Invoke-FreshPwsh -Script ($MakeCred + @'
            Set-IBConfig -ProfileName old -WAPIHost h1 -WAPIVersion 2.1 -Credential (New-Cred u p)
            Set-IBConfig -ProfileName old -NewName new
            (Get-IBConfig -List).ProfileName; (Get-IBConfig).ProfileName; (Get-IBConfig new).WAPIHost
'@)

        $r.Output | Should -Be @('new', 'new', 'h1')
        $json = Get-Content (Get-ConfigPath $r.HomeDir) -Raw | ConvertFrom-Json
        $json.Profiles.PSObject.Properties.Name | Should -Be @('new')
    }

    It 'leaves the current profile with -NoSwitchProfile' {
        $r = Invoke-FreshPwsh -Script ($MakeCred + @'
            Set-IBConfig -ProfileName first -WAPIHost h1 -WAPIVersion 2.1 -Credential (New-Cred u p)
            Set-IBConfig -ProfileName second -WAPIHost h2 -WAPIVersion 2.2 -Credential (New-Cred u p) -NoSwitchProfile
            (Get-IBConfig).ProfileName
            Set-IBConfig -ProfileName second -WAPIHost h3
            (Get-IBConfig).ProfileName
'@)

        $r.Output | Should -Be @('first', 'second')
    }

    It 'accepts the aliases -name, -host and -version and positions 0 to 3' {
        $r = Invoke-FreshPwsh -Script ($MakeCred + @'
            Set-IBConfig -name a -host h1 -version 2.1 -Credential (New-Cred u p)
            Set-IBConfig b h2 2.2 (New-Cred u2 p2)
            Get-IBConfig -List | ForEach-Object { $_.ProfileName + '|' + $_.WAPIHost + '|' + $_.WAPIVersion }
'@)

        $r.Output | Should -Be @('a|h1|2.1', 'b|h2|2.2')
    }

    It 'needs a credential again for a profile whose password could not be read' {
        $homeDir = New-TestHome
        Copy-Fixture 'posh-ibwapi.ps51-windows.json' $homeDir | Out-Null

        $r = Invoke-FreshPwsh -HomeDir $homeDir -Script ($MakeCred + @'
            Set-IBConfig -ProfileName prod -WAPIHost other.example.test
'@)

        $r.Terminating.Id | Should -BeLike 'MissingProfileField,*'
        $r.Terminating.Message | Should -Match 'Credential'
    }

    It 'reports a file it cannot write, and keeps the profiles it had' {
        $homeDir = New-TestHome
        $file = Copy-Fixture 'posh-ibwapi.ps7-linux.json' $homeDir
        $before = Get-Content $file -Raw
        # A folder where the file's temporary sibling cannot be created.
        & chmod 0555 (Split-Path $file)

        try {
            $r = Invoke-FreshPwsh -HomeDir $homeDir -Script ($MakeCred + @'
                Set-IBConfig -ProfileName lab -WAPIHost changed.example.test
'@)
        } finally {
            & chmod 0755 (Split-Path $file)
        }

        if ((& id -u) -eq '0') {
            # root writes anywhere; the case only means something for a normal user.
            Set-ItResult -Skipped -Because 'root ignores folder permissions'
            return
        }
        $r.Terminating.Id | Should -BeLike 'ConfigFileError,*'
        Get-Content $file -Raw | Should -BeExactly $before
    }
}
