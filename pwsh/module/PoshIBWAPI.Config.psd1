@{
    RootModule           = 'PoshIBWAPI.Config.psm1'
    NestedModules        = @('PoshIBWAPI.Config.dll')
    ModuleVersion        = '0.1.0'
    GUID                 = '118ee51f-2b89-4cf7-9f3b-5b8d6e4ab794'
    Author               = 'The PoshIBWAPI.Config authors'
    CompanyName          = 'PoshIBWAPI.Config'
    Copyright            = '(c) The PoshIBWAPI.Config authors. MIT licence.'
    Description          = 'Connection profiles of the Infoblox WAPI module Posh-IBWAPI ' +
                           '(Get-IBConfig, Set-IBConfig, Remove-IBConfig) over a native core: ' +
                           'the same files, variables and secrets as Posh-IBWAPI 4.x.'
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
            ReleaseNotes = 'First release: the file store and the environment-variable profile.'
        }
    }
}
