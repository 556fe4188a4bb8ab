# A short tour of the three cmdlets on the config file store. Run through
# scripts/demo.sh, which gives it a throwaway HOME.
param([Parameter(Mandatory)] [string] $ModulePath)
$ErrorActionPreference = 'Stop'

Import-Module (Resolve-Path $ModulePath)
$secret = ConvertTo-SecureString 'n0t-a-real-password' -AsPlainText -Force
$cred = [pscredential]::new('admin', $secret)

Write-Host '> Set-IBConfig -ProfileName lab -WAPIHost gm-lab.example.test -WAPIVersion 2.12 -Credential $cred -SkipCertificateCheck'
Set-IBConfig -ProfileName lab -WAPIHost gm-lab.example.test -WAPIVersion 2.12 -Credential $cred -SkipCertificateCheck
Write-Host '> Set-IBConfig -ProfileName prod -WAPIHost gm.example.test -WAPIVersion 2.11.3 -Credential $cred'
Set-IBConfig -ProfileName prod -WAPIHost gm.example.test -WAPIVersion 2.11.3 -Credential $cred

Write-Host '> Get-IBConfig -List'
Get-IBConfig -List | Format-Table -AutoSize | Out-String -Width 120 | Write-Host

Write-Host '> Get-IBConfig   (the current profile)'
Get-IBConfig | Format-Table -AutoSize | Out-String -Width 120 | Write-Host

$file = Join-Path $HOME '.config/posh-ibwapi.json'
Write-Host "> Get-Content $file"
Get-Content $file | Write-Host

Write-Host '> Get-IBConfig -List | Remove-IBConfig; Test-Path $file'
Get-IBConfig -List | Remove-IBConfig
Write-Host (Test-Path $file)
