# A6: Remove-IBConfig, and A3: the file goes with the last profile.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $Seed = @'
        $c = [pscredential]::new('u', (ConvertTo-SecureString 'p' -AsPlainText -Force))
        foreach ($n in 'charlie', 'Alpha', 'bravo') {
            Set-IBConfig -ProfileName $n -WAPIHost "$n.example.test" -WAPIVersion 2.1 -Credential $c
        }
'@
}

Describe 'Remove-IBConfig' {

    It 'empties the store and deletes the file from Get-IBConfig -List | Remove-IBConfig' {
        $r = Invoke-FreshPwsh -Script ($Seed + @'
            Get-IBConfig -List | Remove-IBConfig
            (Get-IBConfig -List | Measure-Object).Count
            (Get-IBConfig | Measure-Object).Count
'@)

        $r.Terminating | Should -BeNullOrEmpty
        $r.Warnings | Should -BeNullOrEmpty
        $r.Output | Should -Be @(0, 0)
        Test-Path (Get-ConfigPath $r.HomeDir) | Should -BeFalse
    }

    It 'removes the current profile by default and makes the first by name current' {
        $r = Invoke-FreshPwsh -Script ($Seed + @'
            (Get-IBConfig).ProfileName
            Remove-IBConfig
            (Get-IBConfig).ProfileName
            Remove-IBConfig Alpha
            (Get-IBConfig).ProfileName
'@)

        $r.Output | Should -Be @('bravo', 'Alpha', 'charlie')
        $json = Get-Content (Get-ConfigPath $r.HomeDir) -Raw | ConvertFrom-Json
        $json.CurrentProfile | Should -Be 'charlie'
        $json.Profiles.PSObject.Properties.Name | Should -Be @('charlie')
    }

    It 'keeps the current profile when another one is removed' {
        $r = Invoke-FreshPwsh -Script ($Seed + 'Remove-IBConfig -name CHARLIE; (Get-IBConfig).ProfileName')

        $r.Output | Should -Be 'bravo'
    }

    It 'warns about an unknown name and changes nothing' {
        $r = Invoke-FreshPwsh -Script ($Seed + @'
            Remove-IBConfig -ProfileName nosuch
            (Get-IBConfig -List).Count
'@)

        $r.Warnings | Should -HaveCount 1
        $r.Warnings[0] | Should -Match 'nosuch'
        $r.Output | Should -Be 3
    }

    It 'warns when there is no current profile to remove' {
        $r = Invoke-FreshPwsh -Script 'Remove-IBConfig'

        $r.Warnings | Should -HaveCount 1
        $r.Warnings[0] | Should -Match 'no current profile'
        $r.Terminating | Should -BeNullOrEmpty
    }

    It 'removes everything with -AllProfiles, and nothing with -AllProfiles:$false' {
        $r = Invoke-FreshPwsh -Script ($Seed + @'
            Remove-IBConfig -AllProfiles:$false
            (Get-IBConfig -List).Count
            Remove-IBConfig -AllProfiles
            (Get-IBConfig -List | Measure-Object).Count
            (Get-IBConfig | Measure-Object).Count
'@)

        $r.Output | Should -Be @(3, 0, 0)
        Test-Path (Get-ConfigPath $r.HomeDir) | Should -BeFalse
    }

    It 'takes names from the pipeline by value' {
        $r = Invoke-FreshPwsh -Script ($Seed + "'alpha', 'Bravo' | Remove-IBConfig; (Get-IBConfig -List).ProfileName")

        $r.Output | Should -Be 'charlie'
    }

    It 'sees the removal in a fresh process' {
        $homeDir = New-TestHome
        Invoke-FreshPwsh -HomeDir $homeDir -Script ($Seed + 'Remove-IBConfig bravo') | Out-Null

        $r = Invoke-FreshPwsh -HomeDir $homeDir -Script '(Get-IBConfig -List).ProfileName; (Get-IBConfig).ProfileName'

        $r.Output | Should -Be @('Alpha', 'charlie', 'Alpha')
    }
}
