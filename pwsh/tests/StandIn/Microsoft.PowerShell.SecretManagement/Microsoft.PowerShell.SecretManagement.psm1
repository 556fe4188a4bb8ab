# Test stand-in for Microsoft.PowerShell.SecretManagement 1.1.2.
#
# Same cmdlet names, parameters, error IDs and error kinds as the real module
# (see /work/shared/spec/SECRETMANAGEMENT.md; section numbers below refer to
# it), but every registered vault is a stand-in vault kept in JSON files under
# $env:SECRETMANAGEMENT_STANDIN_DIR (default ~/.secretmanagement-standin):
#
#   registry.json        vault name -> module name, description, VaultParameters
#   vault-<name>.json    secret name -> { Type, Value, Metadata }, soft-deleted names
#   calls.json           vault name -> vault function -> number of calls
#   standin.lock         held while any of the above is read or rewritten
#                        (not a dot file, so Remove-Item -Recurse needs no -Force)
#
# Values are stored in plain text, SecureString included: this is a test
# double, never a place for real secrets. VaultParameters switch on test
# behaviour (Password, ReadOnly, NamePattern, SoftDelete, FailTest,
# BrokenSecrets); see README.md beside this file.
#
# The file reads top-down: errors, storage, value conversion, the stand-in
# vault (what an extension vault would do), dispatch (what SecretManagement
# does around a vault call), the public cmdlets, then the test-only helpers.

Set-StrictMode -Version 3.0

if (-not ('Microsoft.PowerShell.SecretManagement.SecretType' -as [type])) {
    Add-Type -Path (Join-Path $PSScriptRoot 'StandInTypes.cs')
}

$script:LockDepth = 0
$script:MaxSecureStringLength = 65536


# ---------------------------------------------------------------------------
# Errors (§0). Non-terminating errors carry exactly the FullyQualifiedErrorId
# of the real module; terminating ones get ",<Verb>-<Noun>" appended by
# PowerShell (see Stop-SmCommand).

function Get-CommandClassName {
    # 'Get-Secret' -> 'Microsoft.PowerShell.SecretManagement.GetSecretCommand'
    param([Management.Automation.PSCmdlet] $Cmdlet)

    $verbNoun = $Cmdlet.MyInvocation.MyCommand.Name -replace '-', ''
    "Microsoft.PowerShell.SecretManagement.${verbNoun}Command"
}

function New-CommandInvocation {
    # An InvocationInfo whose command is a CmdletInfo for the real cmdlet
    # class (a marker type from StandInTypes.cs), so PowerShell appends that
    # class name to the ErrorId, as it does for the compiled module.
    param([Management.Automation.PSCmdlet] $Cmdlet)

    $call = $Cmdlet.MyInvocation
    $type = (Get-CommandClassName $Cmdlet) -as [type]
    $command = [Management.Automation.CmdletInfo]::new($call.MyCommand.Name, $type)
    [Management.Automation.InvocationInfo]::Create($command, (Get-CallExtent $call))
}

function Get-CallExtent {
    # Where the command was called, for the error display.
    param([Management.Automation.InvocationInfo] $Call)

    $file = [string]$Call.ScriptName
    $text = [string]$Call.Line
    $line = [Math]::Max(1, $Call.ScriptLineNumber)
    $column = [Math]::Max(1, $Call.OffsetInLine)
    $start = [Management.Automation.Language.ScriptPosition]::new($file, $line, $column, $text)
    $end = [Management.Automation.Language.ScriptPosition]::new(
        $file, $line, [Math]::Max($column, $text.TrimEnd().Length + 1), $text)
    [Management.Automation.Language.ScriptExtent]::new($start, $end)
}

function Write-SmError {
    # A non-terminating error on the calling cmdlet. Write-Error takes the
    # command for the FullyQualifiedErrorId from $MyInvocation of the scope
    # that calls it, so that variable is replaced here by one naming the real
    # cmdlet class. The caller's -ErrorAction and -ErrorVariable still apply.
    param(
        [Management.Automation.PSCmdlet] $Cmdlet,
        [string] $Id,
        [Exception] $Exception,
        [Management.Automation.ErrorCategory] $Category,
        [object] $Target
    )

    $record = [Management.Automation.ErrorRecord]::new($Exception, $Id, $Category, $Target)
    $MyInvocation = New-CommandInvocation $Cmdlet
    Write-Error -ErrorRecord $record
}

function Stop-SmCommand {
    # A terminating error: ends the statement whatever -ErrorAction says.
    # ThrowTerminatingError always stamps the calling function on the record,
    # so the full cmdlet class goes into the ErrorId and the result reads
    # "<Id>,Microsoft.PowerShell.SecretManagement.<Verb><Noun>Command,<Verb>-<Noun>".
    param(
        [Management.Automation.PSCmdlet] $Cmdlet,
        [string] $Id,
        [Exception] $Exception,
        [Management.Automation.ErrorCategory] $Category,
        [object] $Target = $Cmdlet
    )

    $fullId = "$Id,$(Get-CommandClassName $Cmdlet)"
    $record = [Management.Automation.ErrorRecord]::new($Exception, $fullId, $Category, $Target)
    $Cmdlet.ThrowTerminatingError($record)
}


# ---------------------------------------------------------------------------
# Storage: JSON files shared by every process that uses the same folder.

function Get-StandInRoot {
    # Read on every call so a test can point a running session at a new folder.
    $root = $env:SECRETMANAGEMENT_STANDIN_DIR
    if ([string]::IsNullOrWhiteSpace($root)) {
        $root = Join-Path $HOME '.secretmanagement-standin'
    }

    $full = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($root)
    $null = [IO.Directory]::CreateDirectory($full)
    $full
}

function Use-StandInLock {
    # Runs Body holding the folder's lock file, so two processes never lose
    # each other's changes. Re-entrant within one process; waits up to 30 s.
    param([scriptblock] $Body)

    if ($script:LockDepth -gt 0) {
        & $Body
        return
    }

    $path = Join-Path (Get-StandInRoot) 'standin.lock'
    $handle = [SecretManagementStandIn.FileLock]::Acquire($path, 30000)
    $script:LockDepth++
    try {
        & $Body
    } finally {
        $script:LockDepth--
        $handle.Dispose()
    }
}

function Read-JsonFile {
    # The file as nested hashtables, or $null when it is missing or empty.
    param([string] $Path)

    if (-not [IO.File]::Exists($Path)) { return $null }
    $text = [IO.File]::ReadAllText($Path)
    if ([string]::IsNullOrWhiteSpace($text)) { return $null }

    # -DateKind String: a secret that looks like a date must stay text.
    ConvertFrom-Json -InputObject $text -AsHashtable -DateKind String -Depth 100
}

function Write-JsonFile {
    # Written beside the target, then moved over it: readers never see half a file.
    param([string] $Path, [object] $Data)

    $json = ConvertTo-Json -InputObject $Data -Depth 100
    $temp = "$Path.$PID.tmp"
    [IO.File]::WriteAllText($temp, $json, [Text.UTF8Encoding]::new($false))
    [IO.File]::Move($temp, $Path, $true)
}

function New-NameTable {
    # Vault and secret names ignore case; a table keyed that way.
    [hashtable]::new([StringComparer]::OrdinalIgnoreCase)
}

function Get-SortedName {
    # Ordinal ignore-case order, the order SecretStore lists in (§9): '_', '~'
    # and 'ä' come after 'Z', unlike Sort-Object.
    param([string[]] $Names)

    if (-not $Names) { return }
    $sorted = [string[]]$Names.Clone()
    [Array]::Sort($sorted, [StringComparer]::OrdinalIgnoreCase)
    $sorted
}

function Get-RegistryPath { Join-Path (Get-StandInRoot) 'registry.json' }

function Read-Registry {
    # @{ Vaults = name -> entry (ignore-case); Default = name or $null }.
    Use-StandInLock {
        $data = Read-JsonFile (Get-RegistryPath)
        $registry = @{ Vaults = New-NameTable; Default = $null }
        if ($null -ne $data) {
            foreach ($entry in $data['Vaults']) { $registry.Vaults[$entry['Name']] = $entry }
            $registry.Default = $data['DefaultVault']
        }
        $registry
    }
}

function Update-Registry {
    # Re-reads the registry under the lock, lets Change edit it, saves it.
    param([scriptblock] $Change)

    Use-StandInLock {
        $registry = Read-Registry
        & $Change $registry
        $vaults = foreach ($name in (Get-SortedName $registry.Vaults.Keys)) {
            $registry.Vaults[$name]
        }
        $document = [ordered]@{ DefaultVault = $registry.Default; Vaults = @($vaults) }
        Write-JsonFile (Get-RegistryPath) $document
    }
}

function Get-VaultDataPath {
    # One file per vault; the name is lower-cased (vault names ignore case)
    # and escaped so any vault name makes a valid file name.
    param([string] $VaultName)

    $leaf = 'vault-' + [Uri]::EscapeDataString($VaultName.ToLowerInvariant()) + '.json'
    Join-Path (Get-StandInRoot) $leaf
}

function Read-VaultData {
    # @{ Secrets = name -> stored entry; Deleted = soft-deleted name -> $true }.
    param([string] $VaultName)

    Use-StandInLock {
        $document = Read-JsonFile (Get-VaultDataPath $VaultName)
        $data = @{ Secrets = New-NameTable; Deleted = New-NameTable }
        if ($null -ne $document -and $null -ne $document['Secrets']) {
            foreach ($name in $document['Secrets'].Keys) {
                $data.Secrets[$name] = $document['Secrets'][$name]
            }
        }
        if ($null -ne $document) {
            foreach ($name in $document['Deleted']) { $data.Deleted[$name] = $true }
        }
        $data
    }
}

function Update-VaultData {
    # Re-reads a vault's data under the lock, lets Change edit it, saves it.
    param([string] $VaultName, [scriptblock] $Change)

    Use-StandInLock {
        $data = Read-VaultData $VaultName
        & $Change $data
        $secrets = [ordered]@{}
        foreach ($name in (Get-SortedName $data.Secrets.Keys)) {
            $secrets[$name] = $data.Secrets[$name]
        }
        $deleted = @(Get-SortedName $data.Deleted.Keys)
        $document = [ordered]@{ Secrets = $secrets; Deleted = $deleted }
        Write-JsonFile (Get-VaultDataPath $VaultName) $document
    }
}

function Get-CallPath { Join-Path (Get-StandInRoot) 'calls.json' }

function Read-CallTable {
    # vault name -> @{ vault function -> count }, both ignore-case.
    $document = Read-JsonFile (Get-CallPath)
    $calls = New-NameTable
    if ($null -eq $document) { return $calls }

    foreach ($vaultName in $document.Keys) {
        $counts = New-NameTable
        foreach ($command in $document[$vaultName].Keys) {
            $counts[$command] = [long]$document[$vaultName][$command]
        }
        $calls[$vaultName] = $counts
    }
    $calls
}

function Add-VaultCall {
    # Counted in calls.json, so a benchmark in another process sees every call.
    param([hashtable] $Vault, [string] $Command)

    Use-StandInLock {
        $calls = Read-CallTable
        if (-not $calls.ContainsKey($Vault.Name)) { $calls[$Vault.Name] = New-NameTable }
        $counts = $calls[$Vault.Name]
        $counts[$Command] = 1 + [long]$counts[$Command]
        Write-JsonFile (Get-CallPath) $calls
    }
}


# ---------------------------------------------------------------------------
# Value conversion between live objects and the JSON entries.

function ConvertTo-SecureText {
    param([string] $Text)
    [Net.NetworkCredential]::new('', $Text).SecurePassword
}

function ConvertFrom-SecureText {
    param([securestring] $Secure)
    [Net.NetworkCredential]::new('', $Secure).Password
}

function Get-SecretTypeProblem {
    # Why SecretStore would refuse this value, or $null (§7, §9): only byte[],
    # string, SecureString, PSCredential, and a Hashtable of at most 20 of
    # those; not [ordered], arrays, numbers or other objects.
    param([object] $Secret, [switch] $InHashtable)

    $simple = $Secret -is [byte[]] -or $Secret -is [string] -or
        $Secret -is [securestring] -or $Secret -is [pscredential]
    if ($simple) { return $null }

    if ($Secret -is [hashtable] -and -not $InHashtable) {
        if ($Secret.Count -gt 20) {
            return [ArgumentException]::new('A Hashtable secret can hold at most 20 entries.')
        }
        foreach ($key in $Secret.Keys) {
            $problem = Get-SecretTypeProblem $Secret[$key] -InHashtable
            if ($null -ne $problem) { return $problem }
        }
        return $null
    }

    $typeName = if ($null -eq $Secret) { 'null' } else { $Secret.GetType().FullName }
    $where = if ($InHashtable) { 'inside a Hashtable secret' } else { 'as a secret' }
    [ArgumentException]::new(
        "A value of type '$typeName' cannot be stored $where. Supported types: " +
        'byte[], String, SecureString, PSCredential, Hashtable.')
}

function ConvertTo-StoredSecret {
    # A secret value as kept in the vault file: @{ Type; Value }. SecureString
    # and PSCredential passwords are kept as plain text (a test double). The
    # value must have passed Get-SecretTypeProblem.
    param([object] $Secret)

    if ($Secret -is [byte[]]) {
        return @{ Type = 'ByteArray'; Value = [Convert]::ToBase64String($Secret) }
    }
    if ($Secret -is [string]) { return @{ Type = 'String'; Value = [string]$Secret } }
    if ($Secret -is [securestring]) {
        return @{ Type = 'SecureString'; Value = ConvertFrom-SecureText $Secret }
    }
    if ($Secret -is [pscredential]) {
        $credential = @{
            UserName = $Secret.UserName
            Password = ConvertFrom-SecureText $Secret.Password
        }
        return @{ Type = 'PSCredential'; Value = $credential }
    }

    $entries = [ordered]@{}
    foreach ($key in $Secret.Keys) { $entries[[string]$key] = ConvertTo-StoredSecret $Secret[$key] }
    @{ Type = 'Hashtable'; Value = $entries }
}

function ConvertFrom-StoredSecret {
    # The live value of a stored entry; a byte[] is written whole, not item by item.
    param([System.Collections.IDictionary] $Stored)

    $value = $Stored['Value']
    switch ($Stored['Type']) {
        'ByteArray' {
            $bytes = [Convert]::FromBase64String($value)
            , $bytes
        }
        'String' { [string]$value }
        'SecureString' { ConvertTo-SecureText $value }
        'PSCredential' {
            [pscredential]::new($value['UserName'], (ConvertTo-SecureText $value['Password']))
        }
        'Hashtable' {
            $table = @{}
            foreach ($key in $value.Keys) { $table[$key] = ConvertFrom-StoredSecret $value[$key] }
            $table
        }
    }
}

function Get-MetadataProblem {
    # Metadata values may be string, int or DateTime (SecretStore's rule); why
    # not, or $null.
    param([hashtable] $Metadata)

    if ($null -eq $Metadata) { return $null }
    foreach ($key in $Metadata.Keys) {
        $value = $Metadata[$key]
        $allowed = $value -is [string] -or $value -is [int] -or
            $value -is [long] -or $value -is [datetime]
        if ($allowed) { continue }
        $typeName = if ($null -eq $value) { 'null' } else { $value.GetType().FullName }
        return [ArgumentException]::new(
            "Metadata '$key' has type '$typeName'; " +
            'metadata values must be string, int or DateTime.')
    }
    $null
}

function ConvertTo-StoredMetadata {
    # Integers are kept as Int64, which is also what the real store returns.
    # The table must have passed Get-MetadataProblem.
    param([hashtable] $Metadata)

    $stored = [ordered]@{}
    if ($null -eq $Metadata) { return $stored }

    foreach ($key in $Metadata.Keys) {
        $value = $Metadata[$key]
        $stored[[string]$key] = if ($value -is [datetime]) {
            $text = $value.ToString('o', [Globalization.CultureInfo]::InvariantCulture)
            @{ Type = 'DateTime'; Value = $text }
        } elseif ($value -is [string]) {
            @{ Type = 'String'; Value = $value }
        } else {
            @{ Type = 'Int64'; Value = [long]$value }
        }
    }
    $stored
}

function ConvertFrom-StoredMetadata {
    # A plain hashtable for SecretInformation.Metadata (empty when none).
    param([System.Collections.IDictionary] $Stored)

    $metadata = @{}
    if ($null -eq $Stored) { return $metadata }

    foreach ($key in $Stored.Keys) {
        $item = $Stored[$key]
        $metadata[$key] = switch ($item['Type']) {
            'Int64' { [long]$item['Value'] }
            'DateTime' {
                [datetime]::Parse($item['Value'], [Globalization.CultureInfo]::InvariantCulture,
                    [Globalization.DateTimeStyles]::RoundtripKind)
            }
            default { [string]$item['Value'] }
        }
    }
    $metadata
}

function ConvertTo-CallerSecret {
    # Get-Secret's conversion (§3): text comes back as a SecureString unless
    # -AsPlainText, a SecureString as text only with -AsPlainText, and a
    # hashtable's top-level values alike. Other types pass unchanged.
    param([object] $Value, [bool] $AsPlainText)

    if ($Value -isnot [hashtable]) {
        ConvertTo-CallerValue $Value $AsPlainText
        return
    }

    $copy = @{}
    foreach ($key in $Value.Keys) {
        $copy[$key] = ConvertTo-CallerValue $Value[$key] $AsPlainText
    }
    $copy
}

function ConvertTo-CallerValue {
    param([object] $Value, [bool] $AsPlainText)

    if ($Value -is [securestring] -and $AsPlainText) { return ConvertFrom-SecureText $Value }
    if ($Value -isnot [string] -or $AsPlainText) { return , $Value }

    # Empty or over-long text cannot become a SecureString: $null, no error (§9).
    if ($Value.Length -eq 0 -or $Value.Length -gt $script:MaxSecureStringLength) { return $null }
    ConvertTo-SecureText $Value
}


# ---------------------------------------------------------------------------
# The stand-in vault: what an extension vault's functions would do (§6, §7).
# Helpers first, then the Invoke-Vault* functions.

function Get-VaultOption {
    # One VaultParameters value, key ignoring case; an array comes back whole.
    param([hashtable] $Vault, [string] $Key)

    $parameters = $Vault['VaultParameters']
    if ($null -eq $parameters) { return $null }
    foreach ($name in $parameters.Keys) {
        if ($name -eq $Key) { return , $parameters[$name] }
    }
    $null
}

function Test-VaultSwitch {
    # A boolean VaultParameters switch; 'true', '1' and 'yes' count as on.
    param([hashtable] $Vault, [string] $Key)

    $value = Get-VaultOption $Vault $Key
    if ($value -is [bool]) { return $value }
    "$value" -in 'true', '1', 'yes'
}

function Get-LockKey {
    # The lock state is per process and per storage folder + vault name.
    param([hashtable] $Vault)
    (Get-StandInRoot) + '|' + $Vault.Name.ToLowerInvariant()
}

function Test-VaultLocked {
    param([hashtable] $Vault)

    $password = [string](Get-VaultOption $Vault 'Password')
    if ($password.Length -eq 0) { return $false }
    -not [SecretManagementStandIn.UnlockState]::IsUnlockedWith((Get-LockKey $Vault), $password)
}

function New-VaultContext {
    # What one vault call reports back besides its output: the records its
    # Write-Error calls would forward, and what it would have thrown.
    [pscustomobject]@{
        Errors = [System.Collections.Generic.List[object]]::new()
        Failure = $null
    }
}

function Add-VaultError {
    # A vault's Write-Error, to be forwarded through SecretManagement.
    param(
        [psobject] $Context,
        [string] $Id,
        [Exception] $Exception,
        [Management.Automation.ErrorCategory] $Category
    )

    $Context.Errors.Add([pscustomobject]@{ Id = $Id; Exception = $Exception; Category = $Category })
}

function Add-WriteError {
    # What a plain `Write-Error -Message` in a vault looks like to the caller.
    param([psobject] $Context, [string] $Message)

    $exception = [Microsoft.PowerShell.Commands.WriteErrorException]::new($Message)
    $id = 'Microsoft.PowerShell.Commands.WriteErrorException'
    Add-VaultError $Context $id $exception 'NotSpecified'
}

# The Confirm-* checks return $true, or set $Context.Failure (what a script
# vault would throw) and return $false. Nothing in the vault really throws: a
# caught PowerShell exception would still reach the caller's $Error and
# -ErrorVariable.

function Confirm-VaultUnlocked {
    # A locked vault never prompts here (SecretStore with Interaction None).
    param([hashtable] $Vault, [psobject] $Context)

    if (-not (Test-VaultLocked $Vault)) { return $true }
    $Context.Failure = [Microsoft.PowerShell.SecretManagement.PasswordRequiredException]::new(
        "A valid password is required to access vault '$($Vault.Name)'. " +
        "Use Unlock-SecretVault -Name '$($Vault.Name)' to unlock it.")
    $false
}

function Confirm-VaultWritable {
    param([hashtable] $Vault, [psobject] $Context)

    if (-not (Test-VaultSwitch $Vault 'ReadOnly')) { return $true }
    $Context.Failure = [InvalidOperationException]::new(
        "Vault '$($Vault.Name)' is read-only: secrets cannot be added, changed or removed.")
    $false
}

function Confirm-SecretNameAllowed {
    # NamePattern, e.g. Azure Key Vault's '^[0-9a-zA-Z-]+$' (case-sensitive regex).
    param([hashtable] $Vault, [string] $Name, [psobject] $Context)

    $rule = [string](Get-VaultOption $Vault 'NamePattern')
    if ($rule.Length -eq 0 -or [regex]::IsMatch($Name, $rule)) { return $true }
    $Context.Failure = [ArgumentException]::new(
        "Secret name '$Name' is not valid in vault '$($Vault.Name)': " +
        "names must match the pattern '$rule'.")
    $false
}

function Confirm-SecretNameFree {
    # SoftDelete: a removed secret keeps its name until purged, as in Azure Key Vault.
    param([hashtable] $Vault, [string] $Name, [hashtable] $Data, [psobject] $Context)

    if (-not $Data.Deleted.ContainsKey($Name)) { return $true }
    $Context.Failure = [InvalidOperationException]::new(
        "Secret name '$Name' in vault '$($Vault.Name)' is held by a soft-deleted secret. " +
        'Purge or recover the deleted secret before reusing the name ' +
        '(stand-in: Clear-StandInDeleted).')
    $false
}

function Confirm-SecretReadable {
    # BrokenSecrets: these names fail to read, as a corrupt entry would.
    param([hashtable] $Vault, [string] $Name, [psobject] $Context)

    $broken = Get-VaultOption $Vault 'BrokenSecrets'
    if (@($broken) -notcontains $Name) { return $true }
    $Context.Failure = [InvalidOperationException]::new(
        "Secret '$Name' in vault '$($Vault.Name)' cannot be read (stand-in option BrokenSecrets).")
    $false
}

function Confirm-NoProblem {
    # A value check's problem, if any, becomes the vault's failure.
    param([Exception] $Problem, [psobject] $Context)

    if ($null -eq $Problem) { return $true }
    $Context.Failure = $Problem
    $false
}

function New-SecretInformation {
    param([hashtable] $Vault, [string] $Name, [System.Collections.IDictionary] $Stored)

    $type = [Microsoft.PowerShell.SecretManagement.SecretType]$Stored['Type']
    [hashtable]$metadata = ConvertFrom-StoredMetadata $Stored['Metadata']
    [Microsoft.PowerShell.SecretManagement.SecretInformation]::new(
        $Name, $type, $Vault.Name, $metadata)
}

# The vault functions. Each counts its call, then returns output, adds
# forwarded errors, or sets a failure, as an extension vault would (§6, §7).

function Invoke-VaultGetSecretInfo {
    # Filter is a WildcardPattern ignoring case, as in SecretStore. A
    # malformed one (an unbalanced '[') fails as a .NET call in a script vault
    # would: a forwarded error named after the exception, and no output.
    param([hashtable] $Vault, [string] $Filter, [psobject] $Context)

    Add-VaultCall $Vault 'Get-SecretInfo'
    if (-not (Confirm-VaultUnlocked $Vault $Context)) { return }
    $badPattern = [SecretManagementStandIn.Wildcard]::Check($Filter)
    if ($null -ne $badPattern) {
        $wrapped = [Management.Automation.MethodInvocationException]::new(
            $badPattern.Message, $badPattern)
        Add-VaultError $Context 'WildcardPatternException' $wrapped 'NotSpecified'
        return
    }

    $pattern = [WildcardPattern]::new($Filter, [Management.Automation.WildcardOptions]::IgnoreCase)
    $secrets = (Read-VaultData $Vault.Name).Secrets
    foreach ($name in (Get-SortedName $secrets.Keys)) {
        # 'psht:' names are never listed, though Get/Set/Remove work on them (§9).
        if ($name.StartsWith('psht:', [StringComparison]::OrdinalIgnoreCase)) { continue }
        if ($pattern.IsMatch($name)) { New-SecretInformation $Vault $name $secrets[$name] }
    }
}

function Invoke-VaultGetSecret {
    # No output when the secret is absent: SecretManagement reports that.
    param([hashtable] $Vault, [string] $Name, [psobject] $Context)

    Add-VaultCall $Vault 'Get-Secret'
    if (-not (Confirm-VaultUnlocked $Vault $Context)) { return }
    if (-not (Confirm-SecretReadable $Vault $Name $Context)) { return }

    $stored = (Read-VaultData $Vault.Name).Secrets[$Name]
    if ($null -eq $stored) { return }
    $value = ConvertFrom-StoredSecret $stored
    , $value
}

function Invoke-VaultSetSecret {
    # Adds or overwrites; the newest casing of the name is kept (§9). An
    # empty hashtable is silently not stored, as in SecretStore.
    param(
        [hashtable] $Vault,
        [string] $Name,
        [object] $Secret,
        [hashtable] $Metadata,
        [psobject] $Context
    )

    Add-VaultCall $Vault 'Set-Secret'
    if (-not (Confirm-VaultUnlocked $Vault $Context)) { return }
    if (-not (Confirm-VaultWritable $Vault $Context)) { return }
    if (-not (Confirm-SecretNameAllowed $Vault $Name $Context)) { return }
    if (-not (Confirm-NoProblem (Get-SecretTypeProblem $Secret) $Context)) { return }
    if (-not (Confirm-NoProblem (Get-MetadataProblem $Metadata) $Context)) { return }
    if ($Secret -is [hashtable] -and $Secret.Count -eq 0) { return }

    $stored = ConvertTo-StoredSecret $Secret
    $stored['Metadata'] = ConvertTo-StoredMetadata $Metadata
    Update-VaultData $Vault.Name {
        param($data)
        if (-not (Confirm-SecretNameFree $Vault $Name $data $Context)) { return }
        $data.Secrets.Remove($Name)
        $data.Secrets[$Name] = $stored
    }
}

function Invoke-VaultRemoveSecret {
    param([hashtable] $Vault, [string] $Name, [psobject] $Context)

    Add-VaultCall $Vault 'Remove-Secret'
    if (-not (Confirm-VaultUnlocked $Vault $Context)) { return }
    if (-not (Confirm-VaultWritable $Vault $Context)) { return }

    Update-VaultData $Vault.Name {
        param($data)
        if (-not $data.Secrets.ContainsKey($Name)) {
            $missing = [Management.Automation.ItemNotFoundException]::new(
                "Secret '$Name' was not found in vault '$($Vault.Name)', so it was not removed.")
            Add-VaultError $Context 'SecretStoreRemoveSecretFailed' $missing 'InvalidOperation'
            return
        }
        $data.Secrets.Remove($Name)
        if (Test-VaultSwitch $Vault 'SoftDelete') { $data.Deleted[$Name] = $true }
    }
}

function Invoke-VaultSetSecretInfo {
    # Replaces all metadata of an existing secret (an empty table clears it).
    param([hashtable] $Vault, [string] $Name, [hashtable] $Metadata, [psobject] $Context)

    Add-VaultCall $Vault 'Set-SecretInfo'
    if (-not (Confirm-VaultUnlocked $Vault $Context)) { return }
    if (-not (Confirm-VaultWritable $Vault $Context)) { return }
    $problem = Get-MetadataProblem $Metadata
    if ($null -ne $problem) {
        Add-VaultError $Context 'SecretStoreSetSecretInfoFailed' $problem 'InvalidOperation'
        return
    }

    $stored = ConvertTo-StoredMetadata $Metadata
    Update-VaultData $Vault.Name {
        param($data)
        $entry = $data.Secrets[$Name]
        if ($null -eq $entry) {
            $missing = [Management.Automation.ItemNotFoundException]::new(
                "Secret '$Name' was not found in vault '$($Vault.Name)'; no metadata was set.")
            Add-VaultError $Context 'SecretStoreSetSecretInfoFailed' $missing 'InvalidOperation'
            return
        }
        $entry['Metadata'] = $stored
    }
}

function Invoke-VaultTest {
    # $true, or $false with errors. Never prompts, even when locked (§3, §7).
    param([hashtable] $Vault, [psobject] $Context)

    Add-VaultCall $Vault 'Test-SecretVault'
    $name = $Vault.Name
    if (Test-VaultLocked $Vault) {
        # SecretStore's two errors: the .NET exception of its first write,
        # then its own Write-Error saying the test write failed.
        $locked = [Microsoft.PowerShell.SecretManagement.PasswordRequiredException]::new(
            "A valid password is required to access vault '$name'.")
        $wrapped = [Management.Automation.MethodInvocationException]::new($locked.Message, $locked)
        Add-VaultError $Context 'PasswordRequiredException' $wrapped 'NotSpecified'
        Add-WriteError $Context (
            "Test-SecretVault could not write a test secret in vault '$name': it is locked.")
        return $false
    }
    if (Test-VaultSwitch $Vault 'FailTest') {
        Add-WriteError $Context "Vault '$name' failed its self test (stand-in option FailTest)."
        return $false
    }

    # A data file that cannot be read fails the test.
    $null = Read-VaultData $name
    $true
}

function Invoke-VaultUnlock {
    # Right password: unlocked for the rest of this process. Wrong password:
    # locked again, even if it was unlocked before (§9).
    param([hashtable] $Vault, [securestring] $Password, [psobject] $Context)

    Add-VaultCall $Vault 'Unlock-SecretVault'
    $expected = [string](Get-VaultOption $Vault 'Password')
    $key = Get-LockKey $Vault
    if ((ConvertFrom-SecureText $Password) -ceq $expected) {
        [SecretManagementStandIn.UnlockState]::Unlock($key, $expected)
        return
    }

    [SecretManagementStandIn.UnlockState]::Lock($key)
    $denied = [Security.Authentication.AuthenticationException]::new(
        "Vault '$($Vault.Name)' could not be unlocked: the password is not valid.")
    Add-VaultError $Context 'SecretStoreUnlockFailed' $denied 'AuthenticationError'
}

function Invoke-VaultUnregister {
    # Nothing to clean up: the data file stays, as SecretStore's store does.
    param([hashtable] $Vault, [psobject] $Context)

    Add-VaultCall $Vault 'Unregister-SecretVault'
}


# ---------------------------------------------------------------------------
# Dispatch: what SecretManagement does around a vault call (§3, §4).

function Invoke-VaultOperation {
    # Runs one vault function the way SecretManagement runs an extension
    # function: output collected, its errors replayed on the calling cmdlet,
    # its failure (a throw, in a real vault) handed back as .Exception for the
    # cmdlet's own rule. A failure loses the errors written before it (§9).
    param(
        [Management.Automation.PSCmdlet] $Cmdlet,
        [string] $Operation,
        [hashtable] $Arguments
    )

    $context = New-VaultContext
    try {
        $output = @(& $Operation @Arguments -Context $context)
    } catch [Management.Automation.PipelineStoppedException] {
        throw
    } catch {
        # Only for the unforeseen, e.g. a vault file that is not JSON.
        $context.Failure = $_.Exception
    }
    if ($null -ne $context.Failure) {
        return [pscustomobject]@{ Output = @(); Exception = $context.Failure; ErrorCount = 0 }
    }

    foreach ($item in $context.Errors) {
        Write-SmError $Cmdlet $item.Id $item.Exception $item.Category $null
    }
    [pscustomobject]@{ Output = $output; Exception = $null; ErrorCount = $context.Errors.Count }
}

function Write-VaultFailure {
    # SecretManagement's rule for a vault that threw (§4). A
    # PasswordRequiredException ends the command, unless -PasswordAsError
    # (Get-Secret, Get-SecretInfo) makes it an "<Operation>Exception" error;
    # anything else is an "<Operation>InvalidOperation" error wrapping it.
    param(
        [Management.Automation.PSCmdlet] $Cmdlet,
        [string] $Operation,
        [Exception] $Exception,
        [string] $Message,
        [switch] $PasswordAsError
    )

    if ($Exception -is [Microsoft.PowerShell.SecretManagement.PasswordRequiredException]) {
        if (-not $PasswordAsError) {
            $id = 'Microsoft.PowerShell.SecretManagement.PasswordRequiredException'
            Stop-SmCommand $Cmdlet $id $Exception 'NotSpecified' $null
        }
        Write-SmError $Cmdlet "${Operation}Exception" $Exception 'InvalidOperation' $Cmdlet
        return
    }

    $wrapped = [Management.Automation.PSInvalidOperationException]::new($Message, $Exception)
    Write-SmError $Cmdlet "${Operation}InvalidOperation" $wrapped 'InvalidOperation' $Cmdlet
}

function Write-NoVaultWarning {
    # Get-Secret, Get-SecretInfo, Set-Secret and Set-SecretInfo warn, then carry on (§2).
    param([Management.Automation.PSCmdlet] $Cmdlet, [hashtable] $Registry)

    if ($Registry.Vaults.Count -eq 0) {
        $Cmdlet.WriteWarning(
            'There are no secret vaults registered. Use Register-SecretVault to add one.')
    }
}

function Get-DefaultVault {
    param([hashtable] $Registry)

    if ([string]::IsNullOrEmpty($Registry.Default)) { return $null }
    $Registry.Vaults[$Registry.Default]
}

function Test-IsDefaultVault {
    param([hashtable] $Registry, [string] $VaultName)
    -not [string]::IsNullOrEmpty($Registry.Default) -and $Registry.Default -eq $VaultName
}

function Resolve-NamedVault {
    # -Vault (and Unlock-SecretVault -Name): exact name, ignoring case. An
    # unknown name ends the command (§3).
    param([Management.Automation.PSCmdlet] $Cmdlet, [hashtable] $Registry, [string] $Name)

    $entry = $Registry.Vaults[$Name]
    if ($null -eq $entry) {
        $problem = [Management.Automation.PSInvalidOperationException]::new(
            "Unable to find secret vault '$Name'. " +
            'Use Get-SecretVault to list the registered vaults.')
        Stop-SmCommand $Cmdlet 'GetSecretVaultNotFound' $problem 'ObjectNotFound'
    }
    $entry
}

function Resolve-TargetVault {
    # Where Set-Secret and Set-SecretInfo write: -Vault, else the default
    # vault, else the command ends with NoVaultId (§3).
    param(
        [Management.Automation.PSCmdlet] $Cmdlet,
        [hashtable] $Registry,
        [string] $Vault,
        [string] $NoVaultId
    )

    if ($Vault) { return Resolve-NamedVault $Cmdlet $Registry $Vault }

    $default = Get-DefaultVault $Registry
    if ($null -eq $default) {
        $problem = [Management.Automation.PSInvalidOperationException]::new(
            'No vault was given with -Vault and there is no default vault.')
        Stop-SmCommand $Cmdlet $NoVaultId $problem 'InvalidOperation'
    }
    $default
}

function Get-VaultSearchOrder {
    # All vaults: the default first, then the others by name (§3).
    param([hashtable] $Registry)

    $default = Get-DefaultVault $Registry
    if ($null -ne $default) { $default }
    foreach ($name in (Get-SortedName $Registry.Vaults.Keys)) {
        if (-not (Test-IsDefaultVault $Registry $name)) { $Registry.Vaults[$name] }
    }
}

function Select-VaultName {
    # -Name of Get-, Test- and Unregister-SecretVault (§5): a wildcard pattern
    # when it holds a wildcard character, else an exact name. No names = all.
    # Returns the matched names (sorted, once each) and the literal names that
    # matched nothing. -StopAfterWildcard: Unregister ignores names after a
    # pattern (code-derived, §3).
    param([hashtable] $Registry, [string[]] $Name, [switch] $StopAfterWildcard)

    $all = @(Get-SortedName $Registry.Vaults.Keys)
    if (-not $Name) { return @{ Names = $all; Missing = @() } }

    $matched = New-NameTable
    $missing = [System.Collections.Generic.List[string]]::new()
    foreach ($item in $Name) {
        if ([WildcardPattern]::ContainsWildcardCharacters($item)) {
            $pattern = [WildcardPattern]::new(
                $item, [Management.Automation.WildcardOptions]::IgnoreCase)
            foreach ($vaultName in $all) {
                if ($pattern.IsMatch($vaultName)) { $matched[$vaultName] = $true }
            }
            if ($StopAfterWildcard) { break }
        } elseif ($Registry.Vaults.ContainsKey($item)) {
            $matched[$Registry.Vaults[$item].Name] = $true
        } else {
            $missing.Add($item)
        }
    }
    @{ Names = @(Get-SortedName $matched.Keys); Missing = $missing.ToArray() }
}

function ConvertTo-SecretVaultInfo {
    param([hashtable] $Registry, [string] $VaultName)

    $entry = $Registry.Vaults[$VaultName]
    [Microsoft.PowerShell.SecretManagement.SecretVaultInfo]::new(
        $entry['Name'], $entry['ModuleName'], $entry['ModulePath'], $entry['Description'],
        $entry['VaultParameters'], (Test-IsDefaultVault $Registry $entry['Name']))
}

function Read-SecretFromVault {
    # One vault's Get-Secret as SecretManagement sees it: @{ Value; Locked }.
    # A throw is reported (§4) and counts as not found; a locked vault ends
    # the command unless -PasswordAsError.
    param(
        [Management.Automation.PSCmdlet] $Cmdlet,
        [hashtable] $Vault,
        [string] $Name,
        [switch] $PasswordAsError
    )

    $result = [pscustomobject]@{ Value = $null; Locked = $false }
    $call = Invoke-VaultOperation $Cmdlet 'Invoke-VaultGetSecret' @{ Vault = $Vault; Name = $Name }
    if ($null -ne $call.Exception) {
        $result.Locked =
            $call.Exception -is [Microsoft.PowerShell.SecretManagement.PasswordRequiredException]
        $message = "Unable to get secret '$Name' from vault '$($Vault.Name)'."
        Write-VaultFailure $Cmdlet 'GetSecret' $call.Exception $message `
            -PasswordAsError:$PasswordAsError
    } elseif ($call.Output.Count -gt 0) {
        $result.Value = $call.Output[0]
    }
    $result
}

function Find-SecretInDefaultVault {
    # Step 1 without -Vault (§3): the default vault's Get-Secret runs only if
    # its listing, with the name as a pattern, shows something. A locked
    # default vault ends the command here. Returns what Read-SecretFromVault
    # returns, or $null.
    param([Management.Automation.PSCmdlet] $Cmdlet, [hashtable] $Vault, [string] $Name)

    $arguments = @{ Vault = $Vault; Filter = $Name }
    $listing = Invoke-VaultOperation $Cmdlet 'Invoke-VaultGetSecretInfo' $arguments
    if ($null -ne $listing.Exception) {
        $message = "Unable to list secrets of vault '$($Vault.Name)'."
        Write-VaultFailure $Cmdlet 'GetSecretInfo' $listing.Exception $message
        return $null
    }
    if ($listing.Output.Count -eq 0) { return $null }

    Read-SecretFromVault $Cmdlet $Vault $Name -PasswordAsError
}

function Write-SecretNotFound {
    param([Management.Automation.PSCmdlet] $Cmdlet, [string] $Name)

    $missing = [Management.Automation.ItemNotFoundException]::new("The secret $Name was not found.")
    Write-SmError $Cmdlet 'GetSecretNotFound' $missing 'ObjectNotFound' $Cmdlet
}

function Write-SecretToVault {
    # Set-Secret's vault call, with metadata (an empty table when none).
    param(
        [Management.Automation.PSCmdlet] $Cmdlet,
        [hashtable] $Vault,
        [string] $Name,
        [object] $Secret,
        [hashtable] $Metadata
    )

    if (-not $Cmdlet.ShouldProcess("Vault: $($Vault.Name), Secret: $Name", 'Set secret')) { return }
    if ($null -eq $Metadata) { $Metadata = @{} }

    $arguments = @{ Vault = $Vault; Name = $Name; Secret = $Secret; Metadata = $Metadata }
    $call = Invoke-VaultOperation $Cmdlet 'Invoke-VaultSetSecret' $arguments
    if ($null -ne $call.Exception) {
        $message = "Unable to add secret '$Name' to vault '$($Vault.Name)'."
        Write-VaultFailure $Cmdlet 'SetSecret' $call.Exception $message
        return
    }
    $Cmdlet.WriteVerbose("Secret '$Name' was added to vault '$($Vault.Name)'.")
}

function Copy-SecretFromInfo {
    # Set-Secret -SecretInfo: copies a secret and its metadata into -Vault.
    param(
        [Management.Automation.PSCmdlet] $Cmdlet,
        [hashtable] $Registry,
        [Microsoft.PowerShell.SecretManagement.SecretInformation] $Info,
        [string] $Vault,
        [bool] $NoClobber
    )

    $source = Resolve-NamedVault $Cmdlet $Registry $Info.VaultName
    $target = Resolve-NamedVault $Cmdlet $Registry $Vault
    $value = (Read-SecretFromVault $Cmdlet $source $Info.Name).Value
    if ($null -eq $value) {
        # Stand-in's own ID: the source no longer holds the secret.
        $missing = [Management.Automation.ItemNotFoundException]::new(
            "Secret '$($Info.Name)' was not found in vault '$($Info.VaultName)', " +
            'so it was not copied.')
        Write-SmError $Cmdlet 'SetSecretSecretInfoNotFound' $missing 'ObjectNotFound' $Cmdlet
        return
    }
    if ($NoClobber -and $null -ne (Read-SecretFromVault $Cmdlet $target $Info.Name).Value) {
        Write-SmError $Cmdlet 'SetSecretCommandAlreadyExistsWithNoClobber' `
            (New-NoClobberException $Info.Name $target.Name) 'ResourceExists' $Cmdlet
        return
    }

    $metadata = @{}
    if ($null -ne $Info.Metadata) {
        foreach ($key in $Info.Metadata.Keys) { $metadata[$key] = $Info.Metadata[$key] }
    }
    Write-SecretToVault $Cmdlet $target $Info.Name $value $metadata
}

function New-NoClobberException {
    param([string] $Name, [string] $VaultName)

    [Management.Automation.PSInvalidOperationException]::new(
        "A secret named '$Name' already exists in vault '$VaultName'; " +
        '-NoClobber prevents overwriting it.')
}


# ---------------------------------------------------------------------------
# Public cmdlets (§3). Parameter names, positions, sets and pipeline binding
# follow the real module.

function Get-SecretVault {
    [CmdletBinding()]
    [OutputType([Microsoft.PowerShell.SecretManagement.SecretVaultInfo])]
    param(
        [Parameter(Position = 0)]
        [SupportsWildcards()]
        [string[]] $Name
    )

    $registry = Read-Registry
    $selection = Select-VaultName $registry $Name
    foreach ($missing in $selection.Missing) {
        $problem = [Management.Automation.ItemNotFoundException]::new(
            "Vault '$missing' was not found.")
        Write-SmError $PSCmdlet 'GetSecretVaultNotFound' $problem 'ObjectNotFound' $PSCmdlet
    }
    foreach ($vaultName in $selection.Names) { ConvertTo-SecretVaultInfo $registry $vaultName }
}

function Register-SecretVault {
    [CmdletBinding(SupportsShouldProcess)]
    [OutputType([Microsoft.PowerShell.SecretManagement.SecretVaultInfo])]
    param(
        [Parameter(Position = 0, Mandatory)]
        [ValidateNotNullOrEmpty()]
        [string] $ModuleName,

        [Parameter(Position = 1)]
        [ValidateNotNullOrEmpty()]
        [string] $Name,

        [hashtable] $VaultParameters = @{},

        [switch] $DefaultVault,

        [switch] $AllowClobber,

        [switch] $PassThru,

        [string] $Description
    )

    # Any module name is accepted: every vault is a stand-in vault.
    $vaultName = if ($Name) { $Name } else { Get-ModuleLeafName $ModuleName }
    if ($null -eq $VaultParameters) { $VaultParameters = @{} }
    if ($VaultParameters.ContainsKey('Verbose')) {
        $problem = [Management.Automation.PSArgumentException]::new(
            "The VaultParameters key 'Verbose' is reserved for SecretManagement.")
        $id = 'RegisterSecretVaultCommandCannotUseReservedName'
        Stop-SmCommand $PSCmdlet $id $problem 'InvalidArgument'
    }
    if ((Read-Registry).Vaults.ContainsKey($vaultName) -and -not $AllowClobber) {
        $problem = [InvalidOperationException]::new(
            "The vault name '$vaultName' is already in use. Use -AllowClobber to replace it.")
        Stop-SmCommand $PSCmdlet 'RegisterSecretVaultInvalidVaultName' $problem 'InvalidArgument'
    }
    if (-not $PSCmdlet.ShouldProcess($vaultName, 'Register secret vault')) { return }

    $entry = [ordered]@{
        Name = $vaultName
        ModuleName = Get-ModuleLeafName $ModuleName
        ModulePath = $ModuleName
        Description = [string]$Description
        VaultParameters = ConvertTo-StoredOption $VaultParameters
    }
    $defaultGiven = $PSBoundParameters.ContainsKey('DefaultVault')
    Update-Registry {
        param($registry)
        Set-RegistryEntry $registry $entry $defaultGiven $DefaultVault.IsPresent
    }

    if ($PassThru) { ConvertTo-SecretVaultInfo (Read-Registry) $vaultName }
}

function Get-ModuleLeafName {
    # 'path/to/My.Vault.psd1' -> 'My.Vault'
    param([string] $ModuleName)

    $leaf = [IO.Path]::GetFileName($ModuleName.TrimEnd('/', '\'))
    $leaf -replace '\.ps[dm]1$', ''
}

function ConvertTo-StoredOption {
    # VaultParameters as they survive JSON: switches become bools and a
    # SecureString (e.g. Password) plain text.
    param([System.Collections.IDictionary] $Option)

    $stored = [ordered]@{}
    foreach ($key in $Option.Keys) {
        $value = $Option[$key]
        if ($value -is [switch]) { $value = $value.IsPresent }
        if ($value -is [securestring]) { $value = ConvertFrom-SecureText $value }
        $stored[[string]$key] = $value
    }
    $stored
}

function Set-RegistryEntry {
    # Adds or replaces a vault. The first vault becomes the default unless
    # -DefaultVault was given explicitly, in which case its value wins (§2).
    param(
        [hashtable] $Registry,
        [System.Collections.IDictionary] $Entry,
        [bool] $DefaultGiven,
        [bool] $MakeDefault
    )

    $name = $Entry['Name']
    $wasDefault = Test-IsDefaultVault $Registry $name
    $isFirst = $Registry.Vaults.Count -eq 0 -or
        ($Registry.Vaults.Count -eq 1 -and $Registry.Vaults.ContainsKey($name))
    $Registry.Vaults.Remove($name)
    $Registry.Vaults[$name] = $Entry

    if ($DefaultGiven) {
        if ($MakeDefault) {
            $Registry.Default = $name
        } elseif ($wasDefault) {
            $Registry.Default = $null
        }
    } elseif ($isFirst -or $wasDefault) {
        $Registry.Default = $name
    }
}

function Unregister-SecretVault {
    [CmdletBinding(SupportsShouldProcess, DefaultParameterSetName = 'NameParameterSet')]
    param(
        [Parameter(ParameterSetName = 'NameParameterSet', Position = 0, Mandatory,
            ValueFromPipeline)]
        [SupportsWildcards()]
        [ValidateNotNullOrEmpty()]
        [string[]] $Name,

        [Parameter(ParameterSetName = 'SecretVaultParameterSet', Position = 0, Mandatory,
            ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [ValidateNotNull()]
        [Microsoft.PowerShell.SecretManagement.SecretVaultInfo] $SecretVault
    )

    process {
        $registry = Read-Registry
        $names = $Name
        if ($PSCmdlet.ParameterSetName -eq 'SecretVaultParameterSet') {
            $names = @($SecretVault.Name)
        }

        $selection = Select-VaultName $registry $names -StopAfterWildcard
        foreach ($missing in $selection.Missing) {
            $problem = [Management.Automation.ItemNotFoundException]::new(
                "Vault '$missing' is not registered, so it was not unregistered.")
            $id = 'UnregisterSecretVaultObjectNotFound'
            Write-SmError $PSCmdlet $id $problem 'ObjectNotFound' $PSCmdlet
        }
        foreach ($vaultName in $selection.Names) {
            Remove-RegisteredVault $PSCmdlet $registry.Vaults[$vaultName]
        }
    }
}

function Remove-RegisteredVault {
    # The vault's own Unregister-SecretVault runs first, then the entry goes;
    # unregistering the default vault leaves no default (§2).
    param([Management.Automation.PSCmdlet] $Cmdlet, [hashtable] $Vault)

    if (-not $Cmdlet.ShouldProcess($Vault.Name, 'Unregister secret vault')) { return }

    $call = Invoke-VaultOperation $Cmdlet 'Invoke-VaultUnregister' @{ Vault = $Vault }
    if ($null -ne $call.Exception) {
        $message = "Vault '$($Vault.Name)' failed while being unregistered."
        Write-VaultFailure $Cmdlet 'UnregisterSecretVault' $call.Exception $message
    }

    $vaultName = $Vault.Name
    Update-Registry {
        param($registry)
        if (Test-IsDefaultVault $registry $vaultName) { $registry.Default = $null }
        $registry.Vaults.Remove($vaultName)
    }
    $Cmdlet.WriteVerbose("Vault '$vaultName' was unregistered.")
}

function Set-SecretVaultDefault {
    [CmdletBinding(SupportsShouldProcess, DefaultParameterSetName = 'NameParameterSet')]
    param(
        [Parameter(ParameterSetName = 'NameParameterSet', Position = 0, Mandatory,
            ValueFromPipelineByPropertyName)]
        [ValidateNotNullOrEmpty()]
        [string] $Name,

        [Parameter(ParameterSetName = 'ClearParameterSet', Mandatory)]
        [switch] $ClearDefault
    )

    process {
        $entry = $null
        if (-not $ClearDefault) {
            $entry = (Read-Registry).Vaults[$Name]
            if ($null -eq $entry) {
                $problem = [Management.Automation.ItemNotFoundException]::new(
                    "Vault '$Name' was not found.")
                Stop-SmCommand $PSCmdlet 'VaultNotFound' $problem 'ObjectNotFound'
            }
        }
        $target = if ($null -eq $entry) { 'default vault' } else { $entry['Name'] }
        if (-not $PSCmdlet.ShouldProcess($target, 'Set default vault')) { return }

        $newDefault = if ($null -eq $entry) { $null } else { $entry['Name'] }
        Update-Registry { param($registry) $registry.Default = $newDefault }
    }
}

function Test-SecretVault {
    [CmdletBinding()]
    [OutputType([bool])]
    param(
        [Parameter(Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [SupportsWildcards()]
        [string[]] $Name
    )

    process {
        $registry = Read-Registry
        $selection = Select-VaultName $registry $Name
        foreach ($missing in $selection.Missing) {
            $problem = [Management.Automation.ItemNotFoundException]::new(
            "Vault '$missing' was not found.")
            Write-SmError $PSCmdlet 'TestSecretVaultNotFound' $problem 'ObjectNotFound' $PSCmdlet
        }
        if ($selection.Names.Count -eq 0) { return }

        # One bool per call (per pipeline item): true only if every matched vault passed.
        $allPassed = $true
        foreach ($vaultName in $selection.Names) {
            if (-not (Test-OneVault $PSCmdlet $registry.Vaults[$vaultName])) { $allPassed = $false }
        }
        $allPassed
    }
}

function Test-OneVault {
    # A vault fails when its test throws, returns false or returns no bool.
    param([Management.Automation.PSCmdlet] $Cmdlet, [hashtable] $Vault)

    $call = Invoke-VaultOperation $Cmdlet 'Invoke-VaultTest' @{ Vault = $Vault }
    if ($null -ne $call.Exception) {
        $message = "Test of vault '$($Vault.Name)' failed with an exception."
        Write-VaultFailure $Cmdlet 'TestSecretVault' $call.Exception $message
        return $false
    }

    $passed = $call.Output.Count -gt 0 -and $call.Output[0] -is [bool] -and $call.Output[0]
    if ($passed) { $Cmdlet.WriteVerbose("Vault '$($Vault.Name)' passed its test.") }
    $passed
}

function Unlock-SecretVault {
    [CmdletBinding()]
    param(
        [Parameter(Position = 0, Mandatory)]
        [ValidateNotNullOrEmpty()]
        [string] $Name,

        [Parameter(Position = 1, Mandatory)]
        [ValidateNotNull()]
        [securestring] $Password
    )

    $vault = Resolve-NamedVault $PSCmdlet (Read-Registry) $Name
    if ([string]::IsNullOrEmpty([string](Get-VaultOption $vault 'Password'))) {
        # Treated like a vault module without an Unlock-SecretVault function.
        $PSCmdlet.WriteWarning(
            "Cannot unlock vault '$($vault.Name)': it does not support Unlock-SecretVault " +
            '(stand-in vault without a Password).')
        return
    }

    $arguments = @{ Vault = $vault; Password = $Password }
    $call = Invoke-VaultOperation $PSCmdlet 'Invoke-VaultUnlock' $arguments
    if ($null -ne $call.Exception) {
        $message = "Unlocking vault '$($vault.Name)' failed: $($call.Exception.Message)"
        Write-VaultFailure $PSCmdlet 'UnlockSecretVault' $call.Exception $message
    } elseif ($call.ErrorCount -eq 0) {
        $PSCmdlet.WriteVerbose("Vault '$($vault.Name)' was unlocked.")
    }
}

function Get-SecretInfo {
    [CmdletBinding()]
    [OutputType([Microsoft.PowerShell.SecretManagement.SecretInformation])]
    param(
        [Parameter(Position = 0)]
        [SupportsWildcards()]
        [string] $Name,

        [Parameter(Position = 1)]
        [string] $Vault
    )

    $registry = Read-Registry
    Write-NoVaultWarning $PSCmdlet $registry
    $filter = if ([string]::IsNullOrEmpty($Name)) { '*' } else { $Name }
    $vaults = if ($Vault) {
        Resolve-NamedVault $PSCmdlet $registry $Vault
    } else {
        Get-VaultSearchOrder $registry
    }

    foreach ($entry in $vaults) {
        $arguments = @{ Vault = $entry; Filter = $filter }
        $call = Invoke-VaultOperation $PSCmdlet 'Invoke-VaultGetSecretInfo' $arguments
        if ($null -ne $call.Exception) {
            $message = "Unable to get secret information from vault '$($entry.Name)'."
            Write-VaultFailure $PSCmdlet 'GetSecretInfo' $call.Exception $message -PasswordAsError
            continue
        }
        foreach ($item in $call.Output) {
            if ($item -is [Microsoft.PowerShell.SecretManagement.SecretInformation]) { $item }
        }
    }
}

function Get-Secret {
    [CmdletBinding(DefaultParameterSetName = 'NameParameterSet')]
    [OutputType([object])]
    param(
        [Parameter(ParameterSetName = 'NameParameterSet', Position = 0, Mandatory,
            ValueFromPipeline)]
        [ValidateNotNullOrEmpty()]
        [string] $Name,

        [Parameter(ParameterSetName = 'NameParameterSet', Position = 1)]
        [string] $Vault,

        [Parameter(ParameterSetName = 'InfoParameterSet', Position = 0, Mandatory,
            ValueFromPipeline)]
        [ValidateNotNull()]
        [Microsoft.PowerShell.SecretManagement.SecretInformation] $InputObject,

        [switch] $AsPlainText
    )

    process {
        $secretName = $Name
        $vaultName = $Vault
        if ($PSCmdlet.ParameterSetName -eq 'InfoParameterSet') {
            $secretName = $InputObject.Name
            $vaultName = $InputObject.VaultName
        }

        $registry = Read-Registry
        Write-NoVaultWarning $PSCmdlet $registry
        $found = if ($vaultName) {
            Find-SecretInNamedVault $PSCmdlet $registry $vaultName $secretName
        } else {
            Find-SecretAnywhere $PSCmdlet $registry $secretName
        }
        if ($null -eq $found) { return }

        $value = ConvertTo-CallerSecret $found.Value $AsPlainText.IsPresent
        if ($null -ne $value) { $PSCmdlet.WriteObject($value, $false) }
    }
}

function Find-SecretInNamedVault {
    # Get-Secret -Vault. Returns @{ Value } or $null after reporting why. A
    # locked vault gives GetSecretException and no not-found error (§3).
    param(
        [Management.Automation.PSCmdlet] $Cmdlet,
        [hashtable] $Registry,
        [string] $VaultName,
        [string] $Name
    )

    $vault = Resolve-NamedVault $Cmdlet $Registry $VaultName
    $result = Read-SecretFromVault $Cmdlet $vault $Name -PasswordAsError
    if ($null -ne $result.Value) { return $result }
    if (-not $result.Locked) { Write-SecretNotFound $Cmdlet $Name }
    $null
}

function Find-SecretAnywhere {
    # Get-Secret without -Vault (§3): the default vault (only if its listing
    # shows the name), then every other vault by name. First value wins.
    param([Management.Automation.PSCmdlet] $Cmdlet, [hashtable] $Registry, [string] $Name)

    $default = Get-DefaultVault $Registry
    if ($null -ne $default) {
        $result = Find-SecretInDefaultVault $Cmdlet $default $Name
        if ($null -ne $result -and $null -ne $result.Value) { return $result }
    }
    foreach ($vault in (Get-VaultSearchOrder $Registry)) {
        if (Test-IsDefaultVault $Registry $vault.Name) { continue }
        $result = Read-SecretFromVault $Cmdlet $vault $Name -PasswordAsError
        if ($null -ne $result.Value) { return $result }
    }

    Write-SecretNotFound $Cmdlet $Name
    $null
}

function Set-Secret {
    [CmdletBinding(SupportsShouldProcess, DefaultParameterSetName = 'SecureStringParameterSet')]
    param(
        [Parameter(ParameterSetName = 'SecureStringParameterSet', Position = 0, Mandatory)]
        [Parameter(ParameterSetName = 'ObjectParameterSet', Position = 0, Mandatory)]
        [ValidateNotNullOrEmpty()]
        [string] $Name,

        [Parameter(ParameterSetName = 'SecureStringParameterSet', Position = 1, Mandatory,
            ValueFromPipeline)]
        [ValidateNotNull()]
        [securestring] $SecureStringSecret,

        [Parameter(ParameterSetName = 'ObjectParameterSet', Position = 1, Mandatory,
            ValueFromPipeline)]
        [ValidateNotNull()]
        [object] $Secret,

        [Parameter(ParameterSetName = 'SecureStringParameterSet', Position = 2)]
        [Parameter(ParameterSetName = 'ObjectParameterSet', Position = 2)]
        [Parameter(ParameterSetName = 'SecretInfoParameterSet', Mandatory)]
        [string] $Vault,

        [Parameter(ParameterSetName = 'SecureStringParameterSet', Position = 3)]
        [Parameter(ParameterSetName = 'ObjectParameterSet', Position = 3)]
        [hashtable] $Metadata,

        [Parameter(ParameterSetName = 'SecretInfoParameterSet', Mandatory, ValueFromPipeline)]
        [ValidateNotNull()]
        [Microsoft.PowerShell.SecretManagement.SecretInformation] $SecretInfo,

        [switch] $NoClobber
    )

    process {
        $registry = Read-Registry
        Write-NoVaultWarning $PSCmdlet $registry
        if ($PSCmdlet.ParameterSetName -eq 'SecretInfoParameterSet') {
            Copy-SecretFromInfo $PSCmdlet $registry $SecretInfo $Vault $NoClobber.IsPresent
            return
        }

        $target = Resolve-TargetVault $PSCmdlet $registry $Vault 'SetSecretCommandFailNoVault'
        if ($NoClobber -and $null -ne (Read-SecretFromVault $PSCmdlet $target $Name).Value) {
            Stop-SmCommand $PSCmdlet 'SetSecretCommandAlreadyExistsWithNoClobber' `
                (New-NoClobberException $Name $target.Name) 'ResourceExists'
        }

        if ($PSCmdlet.ParameterSetName -eq 'SecureStringParameterSet') {
            Write-SecretToVault $PSCmdlet $target $Name $SecureStringSecret $Metadata
        } else {
            Write-SecretToVault $PSCmdlet $target $Name $Secret $Metadata
        }
    }
}

function Set-SecretInfo {
    [CmdletBinding(SupportsShouldProcess, DefaultParameterSetName = 'NameParameterSet')]
    param(
        [Parameter(ParameterSetName = 'NameParameterSet', Position = 0, Mandatory)]
        [ValidateNotNullOrEmpty()]
        [string] $Name,

        [Parameter(Position = 1, Mandatory, ValueFromPipeline)]
        [ValidateNotNull()]
        [hashtable] $Metadata,

        [Parameter(ParameterSetName = 'NameParameterSet', Position = 2)]
        [string] $Vault,

        [Parameter(ParameterSetName = 'InfoParameterSet', Mandatory, ValueFromPipeline)]
        [ValidateNotNull()]
        [Microsoft.PowerShell.SecretManagement.SecretInformation] $InputObject
    )

    process {
        $secretName = $Name
        $vaultName = $Vault
        if ($PSCmdlet.ParameterSetName -eq 'InfoParameterSet') {
            $secretName = $InputObject.Name
            $vaultName = $InputObject.VaultName
        }

        $registry = Read-Registry
        Write-NoVaultWarning $PSCmdlet $registry
        $noVaultId = 'SetSecretInfoCommandFailNoVault'
        $target = Resolve-TargetVault $PSCmdlet $registry $vaultName $noVaultId
        $what = "Vault: $($target.Name), Secret: $secretName"
        if (-not $PSCmdlet.ShouldProcess($what, 'Set secret metadata')) { return }

        $arguments = @{ Vault = $target; Name = $secretName; Metadata = $Metadata }
        $call = Invoke-VaultOperation $PSCmdlet 'Invoke-VaultSetSecretInfo' $arguments
        if ($null -ne $call.Exception) {
            $message = "Cannot set metadata of secret '$secretName' in vault '$($target.Name)'."
            Write-VaultFailure $PSCmdlet 'SetSecretMetadata' $call.Exception $message
        }
    }
}

function Remove-Secret {
    # No default parameter set: with one, piping SecretInformation would make
    # PowerShell prompt for the NameParameterSet's -Vault.
    [CmdletBinding(SupportsShouldProcess)]
    param(
        [Parameter(ParameterSetName = 'NameParameterSet', Position = 0, Mandatory,
            ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [ValidateNotNullOrEmpty()]
        [string] $Name,

        [Parameter(ParameterSetName = 'NameParameterSet', Position = 1, Mandatory)]
        [ValidateNotNullOrEmpty()]
        [string] $Vault,

        [Parameter(ParameterSetName = 'InfoParameterSet', Position = 0, Mandatory,
            ValueFromPipeline)]
        [ValidateNotNull()]
        [Microsoft.PowerShell.SecretManagement.SecretInformation] $InputObject
    )

    process {
        $secretName = $Name
        $vaultName = $Vault
        if ($PSCmdlet.ParameterSetName -eq 'InfoParameterSet') {
            $secretName = $InputObject.Name
            $vaultName = $InputObject.VaultName
        }

        $target = Resolve-NamedVault $PSCmdlet (Read-Registry) $vaultName
        $what = "Vault: $($target.Name), Secret: $secretName"
        if (-not $PSCmdlet.ShouldProcess($what, 'Remove secret')) { return }

        $arguments = @{ Vault = $target; Name = $secretName }
        $call = Invoke-VaultOperation $PSCmdlet 'Invoke-VaultRemoveSecret' $arguments
        if ($null -ne $call.Exception) {
            $message = "Unable to remove secret '$secretName' from vault '$($target.Name)'."
            Write-VaultFailure $PSCmdlet 'RemoveSecret' $call.Exception $message
        } elseif ($call.ErrorCount -eq 0) {
            $PSCmdlet.WriteVerbose("Secret '$secretName' was removed from vault '$($target.Name)'.")
        }
    }
}


# ---------------------------------------------------------------------------
# Test-only helpers: not part of SecretManagement.

function Set-StandInVaultOption {
    <#
    .SYNOPSIS
    Test only: changes a registered stand-in vault's behaviour switches.
    .DESCRIPTION
    Merges Option into the vault's VaultParameters (keys ignore case); a $null
    value removes the key. Takes effect for every process at its next call.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $Vault,
        [Parameter(Mandatory)] [hashtable] $Option
    )

    Assert-StandInVault $PSCmdlet $Vault
    $changes = ConvertTo-StoredOption $Option
    Update-Registry {
        param($registry)
        $entry = $registry.Vaults[$Vault]
        $entry['VaultParameters'] = Merge-Option $entry['VaultParameters'] $changes
    }
}

function Merge-Option {
    param([System.Collections.IDictionary] $Current, [System.Collections.IDictionary] $Changes)

    $merged = New-NameTable
    if ($null -ne $Current) {
        foreach ($key in $Current.Keys) { $merged[$key] = $Current[$key] }
    }
    foreach ($key in $Changes.Keys) {
        $merged.Remove($key)
        if ($null -ne $Changes[$key]) { $merged[$key] = $Changes[$key] }
    }
    $merged
}

function Get-StandInCallCount {
    <#
    .SYNOPSIS
    Test only: how often each vault function ran, counted across processes.
    .DESCRIPTION
    Returns a hashtable of vault function name (Get-Secret, Get-SecretInfo,
    Set-Secret, Remove-Secret, Test-SecretVault, Set-SecretInfo,
    Unlock-SecretVault, Unregister-SecretVault) to count: for one vault with
    -Vault, else summed over all vaults. Get-Secret without -Vault calls the
    default vault's Get-SecretInfo first, as the real module does, and that
    call is counted too. -Reset clears the counts after reading them.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param(
        [string] $Vault,
        [switch] $Reset
    )

    Use-StandInLock {
        $calls = Read-CallTable
        $counts = @{}
        foreach ($vaultName in $calls.Keys) {
            if ($Vault -and $vaultName -ne $Vault) { continue }
            foreach ($command in $calls[$vaultName].Keys) {
                $counts[$command] = [long]$counts[$command] + $calls[$vaultName][$command]
            }
        }
        if ($Reset) {
            if ($Vault) { $calls.Remove($Vault) } else { $calls.Clear() }
            Write-JsonFile (Get-CallPath) $calls
        }
        $counts
    }
}

function Clear-StandInDeleted {
    <#
    .SYNOPSIS
    Test only: purges soft-deleted secret names (all, or those in -Name) so
    Set-Secret can use them again.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $Vault,
        [string[]] $Name
    )

    Assert-StandInVault $PSCmdlet $Vault
    Update-VaultData $Vault {
        param($data)
        if (-not $Name) { $data.Deleted.Clear(); return }
        foreach ($item in $Name) { $data.Deleted.Remove($item) }
    }
}

function Assert-StandInVault {
    param([Management.Automation.PSCmdlet] $Cmdlet, [string] $Vault)

    if (-not (Read-Registry).Vaults.ContainsKey($Vault)) {
        $problem = [Management.Automation.ItemNotFoundException]::new(
            "No vault named '$Vault' is registered.")
        $record = [Management.Automation.ErrorRecord]::new(
            $problem, 'StandInVaultNotFound', 'ObjectNotFound', $Vault)
        $Cmdlet.ThrowTerminatingError($record)
    }
}


Export-ModuleMember -Function @(
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
    'Set-StandInVaultOption'
    'Get-StandInCallCount'
    'Clear-StandInDeleted'
)
