<#
.SYNOPSIS
One measurement of the benchmark, in a fresh pwsh that Invoke-Benchmark.ps1
started with a throwaway HOME (and the IBWAPI_* variables of the store).

.DESCRIPTION
Nothing runs before the timed Import-Module but this script's own parameter
binding, so what the import costs in a new session is measured, not hidden
by an earlier module load. Then, for a module with the IBConfig cmdlets:

  get-current-first / get-name-first   the first call (cmdlet discovery, JIT)
  get-current / get-name               per call, over -Calls calls after the first
                                       (fewer when they take over -MaxCallSeconds)
  list                                 Get-IBConfig -List
  set-new                              the first Set-IBConfig: a new profile (made current)
  set-new-warm                         a second new profile
  set-edit                             Set-IBConfig -WAPIHost of the profile current at
                                       start (current again, so the store ends as it began)
  remove / remove-warm                 Remove-IBConfig of the two new profiles

For the floor module: its one cmdlet, first call and per call.

With -PreloadUtility, Microsoft.PowerShell.Utility is imported before the
timed import (which is then the only measurement): what the module costs
once the cmdlets its .psm1 calls are loaded.

Besides the time, each operation records the bytes this process wrote
(wchar of /proc/self/io: bytes passed to write system calls), the size of
-StoreFile afterwards, the SecretManagement stand-in's vault calls
(Get-StandInCallCount) and, for Set/Remove of the module under test, the
store operations its core logged (its verbose and debug records). Writes JSON to -ResultPath.
#>
param(
    [Parameter(Mandatory)] [ValidateSet('floor', 'subject', 'compare')] [string] $Kind,
    [Parameter(Mandatory)] [string] $Manifest,
    [Parameter(Mandatory)] [string] $ResultPath,
    [int] $Calls = 1000,
    [double] $MaxCallSeconds = 2,
    [string] $CurrentName = 'p1',
    [string] $ByName = 'p1',
    [string] $StoreFile = '',
    [switch] $StandIn,
    [switch] $PreloadUtility
)

# Only to show what the module costs once the cmdlets it uses are loaded.
if ($PreloadUtility) { Import-Module Microsoft.PowerShell.Utility }
$clock = [Diagnostics.Stopwatch]::StartNew()
$importRecords = & { Import-Module $Manifest } 2>&1 3>&1
$clock.Stop()
$importMs = $clock.Elapsed.TotalMilliseconds

# Everything below is untimed set-up or per-operation timing.
$ErrorActionPreference = 'Stop'
$ConfirmPreference = 'None'
$ProgressPreference = 'SilentlyContinue'

$self = [Diagnostics.Process]::GetCurrentProcess()
$result = [ordered]@{
    Kind = $Kind
    ImportMs = $importMs
    WorkingSetBytes = $self.WorkingSet64
    PrivateBytes = $self.PrivateMemorySize64
    ManagedHeapBytes = [GC]::GetTotalMemory($false)
    ImportErrors = @($importRecords | Where-Object { $_ -is [Management.Automation.ErrorRecord] } |
        ForEach-Object { "$_" })
    ImportWarnings = @($importRecords |
        Where-Object { $_ -is [Management.Automation.WarningRecord] } | ForEach-Object { "$_" })
    Operations = [ordered]@{}
    Failures = @()
}

function Get-WrittenBytes {
    # Bytes this process has passed to write(2) and friends so far.
    $line = [IO.File]::ReadAllLines('/proc/self/io') | Where-Object { $_ -like 'wchar:*' }
    [long]($line -replace '^wchar:\s*', '')
}

function Get-StoreFileSize {
    if (-not $StoreFile) { return $null }
    $info = [IO.FileInfo]::new($StoreFile)
    if ($info.Exists) { $info.Length } else { 0 }
}

function Get-VaultCallCount {
    # The stand-in's count since the last reset, and a reset: one total and a breakdown.
    if (-not $StandIn) { return $null }
    $counts = Get-StandInCallCount -Reset
    [ordered]@{
        Total = [long]($counts.Values | Measure-Object -Sum).Sum
        ByFunction = ($counts.Keys | Sort-Object | ForEach-Object { "$_=$($counts[$_])" }) -join ';'
    }
}

function Measure-Once {
    <# Times one call of Body; records bytes written, file size and vault calls. #>
    param([string] $Name, [scriptblock] $Body, [switch] $CountStoreOps)

    $null = Get-VaultCallCount
    $before = Get-WrittenBytes
    $timer = [Diagnostics.Stopwatch]::StartNew()
    try {
        $output = & $Body
        $timer.Stop()
    } catch {
        $timer.Stop()
        $script:result.Failures += "${Name}: $_"
        return
    }
    $entry = New-Entry $timer.Elapsed.TotalMilliseconds 1 ((Get-WrittenBytes) - $before)
    if ($CountStoreOps) { $entry.StoreOps = Measure-StoreOps $output }
    $script:result.Operations[$Name] = $entry
}

function New-Entry {
    # What one operation recorded; per call when it ran Calls times.
    param([double] $Ms, [int] $Calls, [long] $WrittenBytes)
    $vaultCalls = Get-VaultCallCount
    if ($vaultCalls -and $Calls -gt 1) { $vaultCalls.Total = $vaultCalls.Total / $Calls }
    [ordered]@{
        Ms = $Ms / $Calls
        Calls = $Calls
        WrittenBytes = $WrittenBytes / $Calls
        StoreFileBytes = Get-StoreFileSize
        VaultCalls = $vaultCalls
    }
}

function Measure-StoreOps {
    # The backend operations the core logged (verbose or debug) during one cmdlet.
    param([object[]] $Records)
    $pattern = '^(vault .+: (list|read|write|remove|check for changes)\b|asking the host: |' +
        'saved vault file |' +
        'wrote \d+ profile\(s\) to the config file|deleted the config file)'
    $lines = @($Records | Where-Object { $_ -is [Management.Automation.InformationalRecord] } |
        ForEach-Object { $_.Message } | Where-Object { $_ -match $pattern })
    [ordered]@{ Total = $lines.Count; Lines = $lines }
}

function Measure-PerCall {
    <#
    The first call of Command alone, then the mean of up to $Calls more, in
    loops of up to 50 calls each: one script block per loop, so each turn
    costs the command and a loop step only. It stops early after
    $MaxCallSeconds (a slow store would otherwise take minutes); Calls says
    how many ran.
    #>
    param([string] $Name, [string] $Command)

    Measure-Once "$Name-first" ([scriptblock]::Create("`$null = $Command"))
    if (-not $script:result.Operations.Contains("$Name-first")) { return }
    $loop = [scriptblock]::Create("for (`$i = 0; `$i -lt `$chunk; `$i++) { `$null = $Command }")

    $null = Get-VaultCallCount
    $before = Get-WrittenBytes
    $done = 0
    $timer = [Diagnostics.Stopwatch]::StartNew()
    while ($done -lt $Calls -and $timer.Elapsed.TotalSeconds -lt $MaxCallSeconds) {
        $chunk = [Math]::Min(50, $Calls - $done)
        & $loop
        $done += $chunk
    }
    $timer.Stop()
    $script:result.Operations[$Name] =
        New-Entry $timer.Elapsed.TotalMilliseconds $done ((Get-WrittenBytes) - $before)
}

function Invoke-FloorOperations {
    Measure-PerCall 'floor-call' 'Get-IBBenchFloor -Name $ByName'
}

function Invoke-Logged {
    # Runs Body with the core's debug records on the output when they are counted
    # (a -Debug switch would also turn on Verbose and, non-interactive, fail).
    param([scriptblock] $Body)
    if (-not $script:countOps) { return & $Body }
    $DebugPreference = 'Continue'
    $VerbosePreference = 'Continue'
    & $Body 4>&1 5>&1
}

function Invoke-ProfileOperations {
    $password = ConvertTo-SecureString 'bench-password' -AsPlainText -Force
    $credential = [pscredential]::new('bench-user', $password)
    $editHost = 'gm-edited-{0}.example.test' -f [guid]::NewGuid().ToString('n').Substring(0, 8)

    Measure-PerCall 'get-current' 'Get-IBConfig'
    Measure-PerCall 'get-name' 'Get-IBConfig -ProfileName $ByName'
    Measure-Once 'list' { $null = Get-IBConfig -List }
    Measure-Once 'set-new' -CountStoreOps:$countOps {
        Invoke-Logged {
            Set-IBConfig -ProfileName 'bench-new' -WAPIHost 'gm-new.example.test' `
                -WAPIVersion '2.12' -Credential $credential
        }
    }
    Measure-Once 'set-new-warm' -CountStoreOps:$countOps {
        Invoke-Logged {
            Set-IBConfig -ProfileName 'bench-new2' -WAPIHost 'gm-new2.example.test' `
                -WAPIVersion '2.12' -Credential $credential
        }
    }
    Measure-Once 'set-edit' -CountStoreOps:$countOps {
        Invoke-Logged { Set-IBConfig -ProfileName $CurrentName -WAPIHost $editHost }
    }
    Measure-Once 'remove' -CountStoreOps:$countOps {
        Invoke-Logged { Remove-IBConfig -ProfileName 'bench-new' }
    }
    Measure-Once 'remove-warm' -CountStoreOps:$countOps {
        Invoke-Logged { Remove-IBConfig -ProfileName 'bench-new2' }
    }
}

# The subject's own core logs are counted; a compared module is left to run as is.
$countOps = $Kind -eq 'subject'
$result.Operations['import'] = [ordered]@{
    Ms = $importMs
    StoreFileBytes = Get-StoreFileSize
    VaultCalls = Get-VaultCallCount
}
if ($PreloadUtility) {
    # Import only: the operations are measured without the preload.
} elseif ($Kind -eq 'floor') {
    Invoke-FloorOperations
} else {
    Invoke-ProfileOperations
}

$result | ConvertTo-Json -Depth 6 | Set-Content -LiteralPath $ResultPath -Encoding utf8
