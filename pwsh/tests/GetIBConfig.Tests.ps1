# A5: Get-IBConfig, its output objects and the default table view.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
}

Describe 'Get-IBConfig' {

    BeforeAll {
        $HomeDir = New-TestHome
        Copy-Fixture 'posh-ibwapi.ps7-linux.json' $HomeDir | Out-Null
    }

    It 'returns the current profile with no argument' {
        $r = Invoke-FreshPwsh -HomeDir $HomeDir -Script '(Get-IBConfig).ProfileName'

        $r.Output | Should -Be 'lab'
    }

    It 'returns a profile by name (position 0, any case) and nothing for an unknown name' {
        $r = Invoke-FreshPwsh -HomeDir $HomeDir -Script @'
            (Get-IBConfig PROD).WAPIHost
            (Get-IBConfig -ProfileName nosuch | Measure-Object).Count
'@

        $r.Output | Should -Be @('gm.example.test', 0)
        $r.Errors | Should -BeNullOrEmpty
        $r.Warnings | Should -BeNullOrEmpty
    }

    It 'writes PoshIBWAPI.IBConfig objects with the six 4.x properties' {
        $r = Invoke-FreshPwsh -HomeDir $HomeDir -Script @'
            $p = Get-IBConfig prod
            $p.PSObject.TypeNames[0]
            ($p.PSObject.Properties.Name -join ',')
            $p.Credential.GetType().FullName
            $p.SkipCertificateCheck.GetType().FullName
'@

        $r.Output | Should -Be @('PoshIBWAPI.IBConfig',
            'ProfileName,WAPIHost,WAPIVersion,Credential,SkipCertificateCheck,NoSession',
            'System.Management.Automation.PSCredential', 'System.Boolean')
    }

    It 'lists every profile sorted the way Sort-Object sorts names' {
        $r = Invoke-FreshPwsh -Script @'
            $c = [pscredential]::new('u', (ConvertTo-SecureString 'p' -AsPlainText -Force))
            foreach ($n in 'beta', 'Gamma', 'Alpha', '_under', 'Éclair', 'zed', '10', '9') {
                Set-IBConfig -ProfileName $n -WAPIHost h -WAPIVersion 2.1 -Credential $c
            }
            $names = (Get-IBConfig -List).ProfileName
            $names -join ','
            ($names | Sort-Object) -join ','
'@

        $r.Output[0] | Should -BeExactly $r.Output[1]
        ($r.Output[0] -split ',')[0..2] | Should -Not -Contain 'zed'
    }

    It 'shows the user name as CredentialUser in the table, never the password' {
        $r = Invoke-FreshPwsh -HomeDir $HomeDir -Script @'
            Get-IBConfig -List | Format-Table | Out-String -Width 200
            Get-IBConfig -List | Format-List | Out-String -Width 200
'@

        $table = $r.Output[0]
        $table | Should -Match 'CredentialUser'
        $table | Should -Match 'svc-ipam'
        $table | Should -Not -Match 'wörd'
        $r.Output[1] | Should -Not -Match 'wörd'
    }

    It 'has the table view from import on, also for profiles made in another runspace' {
        $r = Invoke-FreshPwsh -HomeDir $HomeDir -Script @'
            (Get-FormatData -TypeName PoshIBWAPI.IBConfig).FormatViewDefinition.Control.GetType().Name
            $module = (Get-Module PoshIBWAPI.Config).Path
            $made = 1 | ForEach-Object -Parallel { Import-Module $using:module; Get-IBConfig prod }
            $made | Out-String -Width 200
'@

        $r.Output[0] | Should -Be 'TableControl'
        $r.Output[1] | Should -Match 'CredentialUser'
        $r.Output[1] | Should -Match 'svc-ipam'
    }

    It 'lists with -List:$false too, as 4.x does' {
        $r = Invoke-FreshPwsh -HomeDir $HomeDir -Script '(Get-IBConfig -List:$false | Measure-Object).Count'

        $r.Output | Should -Be 2
    }
}
