# Manifest of the benchmark's floor module; Invoke-Benchmark.ps1 copies it
# beside the built IBBench.Floor.dll.
@{
    RootModule        = 'IBBench.Floor.dll'
    ModuleVersion     = '0.0.1'
    GUID              = '6f3c1d2e-7a41-4e55-9a0b-2f8d1c9e4b70'
    Author            = 'The PoshIBWAPI.Config authors'
    Description       = 'Benchmark floor: an empty binary module with one cmdlet.'
    PowerShellVersion = '5.1'
    FunctionsToExport = @()
    CmdletsToExport   = @('Get-IBBenchFloor')
    VariablesToExport = @()
    AliasesToExport   = @()
}
