@{
    # A binary module alone: it opens the profile store at import itself
    # (ModuleLifecycle.OnImport), because a script module costs ~40 ms more.
    RootModule           = 'PoshIBWAPI.Config.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '118ee51f-2b89-4cf7-9f3b-5b8d6e4ab794'
    Author               = 'The PoshIBWAPI.Config authors'
    CompanyName          = 'PoshIBWAPI.Config'
    Copyright            = '(c) The PoshIBWAPI.Config authors. MIT licence.'
    # Here-strings: a manifest allows constants only, not '+'.
    Description          = @'
Connection profiles of the Infoblox WAPI module Posh-IBWAPI (Get-IBConfig, Set-IBConfig,
Remove-IBConfig) over a native core: the same files, variables and secrets as Posh-IBWAPI 4.x.
'@
    PowerShellVersion    = '5.1'
    CompatiblePSEditions = @('Desktop', 'Core')
    FormatsToProcess     = @('PoshIBWAPI.Config.format.ps1xml')
    FunctionsToExport    = @()
    CmdletsToExport      = @('Get-IBConfig', 'Set-IBConfig', 'Remove-IBConfig', 'Copy-IBConfig',
                             'Move-IBConfig')
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('Infoblox', 'IPAM', 'DNS', 'DHCP', 'WAPI', 'Linux', 'Windows', 'MacOS')
            # This module is the connection-profile layer of Posh-IBWAPI, so
            # its project page is Posh-IBWAPI's. The licence is MIT, as the
            # LICENSE file in this folder says; the link is the MIT text.
            ProjectUri   = 'https://github.com/rmbolger/Posh-IBWAPI'
            LicenseUri   = 'https://opensource.org/license/mit'
            ReleaseNotes = @'
0.1.0: Get-, Set- and Remove-IBConfig as in Posh-IBWAPI 4.x over a native core;
SecretManagement, Secret Service, kernel keyring and encrypted-file vaults; locked,
atomic, owner-only saves; Copy- and Move-IBConfig; -WAPIVersion latest.
'@
        }
    }
}
