# Test stand-in for Microsoft.PowerShell.SecretManagement 1.1.2 (see README.md).
# Put the parent folder (pwsh/tests/StandIn) first on PSModulePath and
# `Import-Module Microsoft.PowerShell.SecretManagement` loads this instead of
# the real module. Not for real secrets: vault files hold values in plain text.
@{
    RootModule = 'Microsoft.PowerShell.SecretManagement.psm1'
    ModuleVersion = '1.1.2'
    GUID = 'b2c3f07e-547b-49f5-b1cb-ae55c4765722'
    Author = 'PoshIBWAPI.Config tests'
    Description = 'Test stand-in for Microsoft.PowerShell.SecretManagement 1.1.2: the same cmdlets over JSON-file vaults, with switches for locked, read-only and failing vaults.'
    PowerShellVersion = '7.5'
    CompatiblePSEditions = @('Core')
    FormatsToProcess = @('Microsoft.PowerShell.SecretManagement.format.ps1xml')
    FunctionsToExport = @(
        'Get-Secret'
        'Get-SecretInfo'
        'Get-SecretVault'
        'Register-SecretVault'
        'Remove-Secret'
        'Set-Secret'
        'Set-SecretInfo'
        'Set-SecretVaultDefault'
        'Test-SecretVault'
        'Unlock-SecretVault'
        'Unregister-SecretVault'
        # Test-only helpers, not in the real module.
        'Set-StandInVaultOption'
        'Get-StandInCallCount'
        'Clear-StandInDeleted'
    )
    CmdletsToExport = @()
    VariablesToExport = @()
    AliasesToExport = @()
    PrivateData = @{
        PSData = @{
            Tags = @('TestDouble')
        }
    }
}
