namespace PoshIBWAPI.Config.Native
{
    /// <summary>
    /// The PowerShell each host-vault operation runs. Every script gets
    /// (vault, arg1, arg2) and answers one array: ok, failure kind, message,
    /// then the items. SecretManagement's errors are mostly non-terminating,
    /// so each call runs with -ErrorAction Stop inside try/catch.
    /// </summary>
    internal static class SecretManagementScripts
    {
        // Shared by every script: turns a caught error into an answer,
        // telling a locked vault and a missing secret from other failures.
        private const string Prelude = @"
param($Vault, $Arg1, $Arg2)
Set-StrictMode -Off
function Fail($err) {
    $kind = 1
    $text = ""$($err.FullyQualifiedErrorId) $($err.Exception.GetType().FullName)""
    for ($x = $err.Exception; $x; $x = $x.InnerException) { $text += ' ' + $x.GetType().Name }
    if ($text -match 'PasswordRequired') { $kind = 2 }
    elseif ($text -match 'GetSecretNotFound') { $kind = 3 }
    # SecretManagement wraps a vault's own error; its words are inside.
    $messages = for ($x = $err.Exception; $x; $x = $x.InnerException) { $x.Message }
    , @($false, $kind, (($messages | Select-Object -Unique) -join ' '))
}
";

        private const string Available = Prelude + @"
$names = 'Get-Secret', 'Set-Secret', 'Remove-Secret', 'Get-SecretInfo',
    'Unlock-SecretVault', 'Test-SecretVault', 'Get-SecretVault'
$found = @(Get-Command -Name $names -ErrorAction Ignore)
if ($found.Count -eq $names.Count) { , @($true, 0, '') }
else {
    , @($false, 4, 'the SecretManagement commands were not found. Install and import ' +
        'Microsoft.PowerShell.SecretManagement, or use a built-in vault such as [file].')
}
";

        private const string Unlock = Prelude + @"
try { Unlock-SecretVault -Name $Vault -Password $Arg1 -ErrorAction Stop; , @($true, 0, '') }
catch { Fail $_ }
";

        private const string Test = Prelude + @"
$errs = $null
$testArgs = @{
    Name = [WildcardPattern]::Escape($Vault)
    ErrorAction = 'SilentlyContinue'
    ErrorVariable = 'errs'
}
$ok = Test-SecretVault @testArgs
if ($ok -eq $true) { , @($true, 0, '') }
elseif ($errs) { Fail $errs[0] }
else { , @($false, 1, ""Test-SecretVault reported that the vault '$Vault' does not work."") }
";

        private const string List = Prelude + @"
try {
    $names = @(Get-SecretInfo -Vault $Vault -Name $Arg1 -ErrorAction Stop | ForEach-Object Name)
    , (@($true, 0, '') + $names)
} catch { Fail $_ }
";

        private const string Read = Prelude + @"
try {
    $value = Get-Secret -Vault $Vault -Name $Arg1 -AsPlainText -ErrorAction Stop
    if ($value -is [string]) { , @($true, 0, '', $value) }
    else { , @($false, 1, ""the secret '$Arg1' is not text (it is a $($value.GetType().Name))."") }
} catch { Fail $_ }
";

        private const string Write = Prelude + @"
try { Set-Secret -Vault $Vault -Name $Arg1 -Secret $Arg2 -ErrorAction Stop; , @($true, 0, '') }
catch { Fail $_ }
";

        private const string Remove = Prelude + @"
try { Remove-Secret -Vault $Vault -Name $Arg1 -ErrorAction Stop; , @($true, 0, '') }
catch { Fail $_ }
";

        private const string Describe = Prelude + @"
try {
    $info = Get-SecretVault -Name ([WildcardPattern]::Escape($Vault)) -ErrorAction Stop |
        Select-Object -First 1
    $items = @(""module=$($info.ModuleName)"")
    if ($info.VaultParameters) {
        foreach ($key in $info.VaultParameters.Keys) {
            $items += ""param:$key=$($info.VaultParameters[$key])""
        }
    }
    , (@($true, 0, '') + $items)
} catch { Fail $_ }
";

        /// <summary>The script of <paramref name="op"/>.</summary>
        internal static string For(HostVaultOp op)
        {
            switch (op)
            {
                case HostVaultOp.Available:
                    return Available;
                case HostVaultOp.Unlock:
                    return Unlock;
                case HostVaultOp.Test:
                    return Test;
                case HostVaultOp.List:
                    return List;
                case HostVaultOp.Read:
                    return Read;
                case HostVaultOp.Write:
                    return Write;
                case HostVaultOp.Remove:
                    return Remove;
                case HostVaultOp.Describe:
                    return Describe;
                default:
                    return Prelude + "@($false, 1, 'unknown operation')";
            }
        }
    }
}
