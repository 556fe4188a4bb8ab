# Pester 5 tests of the SecretManagement stand-in itself (the module in
# ./Microsoft.PowerShell.SecretManagement). Every test gets an empty storage
# folder under $TestDrive, so no registry or secret leaks between tests.
#
#   dotnet pwsh -NoProfile -Command "Import-Module ~/.nuget/packages/pester/5.7.1/tools/Pester.psd1;
#       Invoke-Pester ./pwsh/tests/StandIn/StandIn.Tests.ps1 -Output Detailed"

BeforeAll {
    $script:SavedModulePath = $env:PSModulePath
    $script:SavedStandInDir = $env:SECRETMANAGEMENT_STANDIN_DIR
    $env:PSModulePath = $PSScriptRoot + [IO.Path]::PathSeparator + $env:PSModulePath
    Import-Module Microsoft.PowerShell.SecretManagement -Force -ErrorAction Stop

    # FullyQualifiedErrorId = "<Id>,$Ns.<Verb><Noun>Command" for non-terminating
    # errors; terminating ones also end in ",<Verb>-<Noun>" (see README.md).
    $script:Ns = 'Microsoft.PowerShell.SecretManagement'
    $script:WriteErrorId = 'Microsoft.PowerShell.Commands.WriteErrorException'

    function New-TestPassword {
        param([string] $Text)
        ConvertTo-SecureString $Text -AsPlainText -Force
    }

    function ConvertTo-PlainText {
        param([securestring] $Secure)
        [Net.NetworkCredential]::new('', $Secure).Password
    }

    function Get-PwshCommand {
        # How to start another pwsh like this one: under `dotnet pwsh` the
        # process is dotnet and pwsh.dll is its first argument.
        $process = (Get-Process -Id $PID).Path
        $entry = [Reflection.Assembly]::GetEntryAssembly().Location
        if ([IO.Path]::GetFileNameWithoutExtension($process) -eq 'dotnet') {
            return @($process, $entry)
        }
        @($process)
    }

    function New-ChildScript {
        # A script file for a second process; it imports the stand-in first.
        # The process inherits PSModulePath and the storage folder from here.
        param([string] $Body)

        $path = Join-Path $TestDrive ('child-' + [guid]::NewGuid() + '.ps1')
        $text = "`$ErrorActionPreference = 'Stop'`n" +
            "Import-Module Microsoft.PowerShell.SecretManagement`n" + $Body
        Set-Content -LiteralPath $path -Value $text -Encoding utf8
        $path
    }

    function Get-ChildArgument {
        param([string] $Script)
        @('-NoProfile', '-NonInteractive', '-File', $Script)
    }

    function Invoke-ChildProcess {
        # Runs Body in a second pwsh and returns its output lines.
        param([string] $Body)

        $command = Get-PwshCommand
        $script = New-ChildScript $Body
        $arguments = @($command | Select-Object -Skip 1) + (Get-ChildArgument $script)
        $output = & $command[0] @arguments 2>&1
        if ($LASTEXITCODE -ne 0) {
            throw "Child process failed ($LASTEXITCODE): $($output -join "`n")"
        }
        @($output | ForEach-Object { "$_" })
    }
}

AfterAll {
    Remove-Module Microsoft.PowerShell.SecretManagement -Force -ErrorAction SilentlyContinue
    $env:PSModulePath = $script:SavedModulePath
    $env:SECRETMANAGEMENT_STANDIN_DIR = $script:SavedStandInDir
}

Describe 'SecretManagement stand-in' {
    BeforeEach {
        $env:SECRETMANAGEMENT_STANDIN_DIR = Join-Path $TestDrive ('store-' + [guid]::NewGuid())
    }

    Describe 'Module' {
        It 'Should import as version 1.1.2 from the stand-in folder' {
            $module = Get-Module Microsoft.PowerShell.SecretManagement

            $module.Version | Should -Be ([version]'1.1.2')
            $module.ModuleBase | Should -BeLike "$PSScriptRoot*"
        }

        It 'Should export the SecretManagement cmdlets and the test helpers' {
            $expected = @(
                'Get-Secret', 'Get-SecretInfo', 'Get-SecretVault', 'Register-SecretVault',
                'Remove-Secret', 'Set-Secret', 'Set-SecretInfo', 'Set-SecretVaultDefault',
                'Test-SecretVault', 'Unlock-SecretVault', 'Unregister-SecretVault',
                'Set-StandInVaultOption', 'Get-StandInCallCount', 'Clear-StandInDeleted')
            $exported = (Get-Module Microsoft.PowerShell.SecretManagement).ExportedCommands.Keys

            @($exported | Sort-Object) | Should -Be @($expected | Sort-Object)
        }

        It 'Should define the SecretManagement types' {
            [int][Microsoft.PowerShell.SecretManagement.SecretType]::Hashtable | Should -Be 5
            [int][Microsoft.PowerShell.SecretManagement.SecretType]::ByteArray | Should -Be 1
            $exception = [Microsoft.PowerShell.SecretManagement.PasswordRequiredException]::new('m')
            $exception | Should -BeOfType [InvalidOperationException]
            $info = [Microsoft.PowerShell.SecretManagement.SecretInformation]::new(
                'n', 'String', 'v')
            $info.Metadata | Should -BeNullOrEmpty
        }

        It 'Should import again with -Force without failing' {
            { Import-Module Microsoft.PowerShell.SecretManagement -Force -ErrorAction Stop } |
                Should -Not -Throw
        }

        It 'Should declare <Command> -<Parameter> in <Set> like the real module' -ForEach @(
            @{ Command = 'Get-Secret'; Parameter = 'Name'; Set = 'NameParameterSet'
                Position = 0; Mandatory = $true; Pipeline = $true }
            @{ Command = 'Get-Secret'; Parameter = 'Vault'; Set = 'NameParameterSet'
                Position = 1; Mandatory = $false; Pipeline = $false }
            @{ Command = 'Get-Secret'; Parameter = 'InputObject'; Set = 'InfoParameterSet'
                Position = 0; Mandatory = $true; Pipeline = $true }
            @{ Command = 'Get-SecretInfo'; Parameter = 'Name'; Set = '__AllParameterSets'
                Position = 0; Mandatory = $false; Pipeline = $false }
            @{ Command = 'Get-SecretInfo'; Parameter = 'Vault'; Set = '__AllParameterSets'
                Position = 1; Mandatory = $false; Pipeline = $false }
            @{ Command = 'Set-Secret'; Parameter = 'SecureStringSecret'
                Set = 'SecureStringParameterSet'
                Position = 1; Mandatory = $true; Pipeline = $true }
            @{ Command = 'Set-Secret'; Parameter = 'Secret'; Set = 'ObjectParameterSet'
                Position = 1; Mandatory = $true; Pipeline = $true }
            @{ Command = 'Set-Secret'; Parameter = 'Vault'; Set = 'ObjectParameterSet'
                Position = 2; Mandatory = $false; Pipeline = $false }
            @{ Command = 'Set-Secret'; Parameter = 'Metadata'; Set = 'ObjectParameterSet'
                Position = 3; Mandatory = $false; Pipeline = $false }
            @{ Command = 'Set-Secret'; Parameter = 'Vault'; Set = 'SecretInfoParameterSet'
                Position = [int]::MinValue; Mandatory = $true; Pipeline = $false }
            @{ Command = 'Remove-Secret'; Parameter = 'Vault'; Set = 'NameParameterSet'
                Position = 1; Mandatory = $true; Pipeline = $false }
            @{ Command = 'Unlock-SecretVault'; Parameter = 'Password'; Set = '__AllParameterSets'
                Position = 1; Mandatory = $true; Pipeline = $false }
            @{ Command = 'Test-SecretVault'; Parameter = 'Name'; Set = '__AllParameterSets'
                Position = 0; Mandatory = $false; Pipeline = $true }
            @{ Command = 'Register-SecretVault'; Parameter = 'ModuleName'
                Set = '__AllParameterSets'
                Position = 0; Mandatory = $true; Pipeline = $false }
            @{ Command = 'Register-SecretVault'; Parameter = 'Name'; Set = '__AllParameterSets'
                Position = 1; Mandatory = $false; Pipeline = $false }
        ) {
            $declared = (Get-Command $Command).Parameters[$Parameter].ParameterSets[$Set]

            $declared.Position | Should -Be $Position
            $declared.IsMandatory | Should -Be $Mandatory
            $declared.ValueFromPipeline | Should -Be $Pipeline
        }
    }

    Describe 'Vault registration' {
        It 'Should make the first vault the default and keep it when more are added' {
            Register-SecretVault -ModuleName StandIn -Name First
            Register-SecretVault -ModuleName StandIn -Name Second

            $vaults = Get-SecretVault
            $vaults.Name | Should -Be @('First', 'Second')
            $vaults.IsDefault | Should -Be @($true, $false)
            $vaults[0] | Should -BeOfType [Microsoft.PowerShell.SecretManagement.SecretVaultInfo]
        }

        It 'Should let an explicit -DefaultVault win' {
            Register-SecretVault -ModuleName StandIn -Name First -DefaultVault:$false
            (Get-SecretVault First).IsDefault | Should -BeFalse

            Register-SecretVault -ModuleName StandIn -Name Second -DefaultVault
            (Get-SecretVault Second).IsDefault | Should -BeTrue
        }

        It 'Should take the vault name from the module name when -Name is absent' {
            Register-SecretVault -ModuleName '/some/where/My.Vault.psd1'

            (Get-SecretVault).Name | Should -Be 'My.Vault'
            (Get-SecretVault).ModuleName | Should -Be 'My.Vault'
        }

        It 'Should return the vault with -PassThru, VaultParameters and Description included' {
            $info = Register-SecretVault -ModuleName StandIn -Name V -PassThru -Description 'd' `
                -VaultParameters @{ ReadOnly = $true; BrokenSecrets = @('a', 'b') }

            $info.Name | Should -Be 'V'
            $info.Description | Should -Be 'd'
            $info.VaultParameters['ReadOnly'] | Should -BeTrue
            $info.VaultParameters['BrokenSecrets'] | Should -Be @('a', 'b')
        }

        It 'Should refuse a taken name unless -AllowClobber (terminating)' {
            Register-SecretVault -ModuleName StandIn -Name V

            { Register-SecretVault -ModuleName StandIn -Name v -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId "RegisterSecretVaultInvalidVaultName,$Ns.Register*"
            Register-SecretVault -ModuleName StandIn -Name V -AllowClobber -Description 'new'
            (Get-SecretVault V).Description | Should -Be 'new'
        }

        It 'Should refuse the reserved VaultParameters key Verbose (terminating)' {
            $id = "RegisterSecretVaultCommandCannotUseReservedName,$Ns.RegisterSecretVaultCommand*"
            { Register-SecretVault StandIn V -VaultParameters @{ Verbose = $true } } |
                Should -Throw -ErrorId $id
        }

        It 'Should report an unknown literal vault name, but not an unmatched pattern' {
            Register-SecretVault -ModuleName StandIn -Name Alpha

            $found = Get-SecretVault -Name 'alpha', 'nosuch', 'zz*' `
                -ErrorVariable err -ErrorAction SilentlyContinue

            $found.Name | Should -Be 'Alpha'
            $err.FullyQualifiedErrorId |
                Should -Be "GetSecretVaultNotFound,$Ns.GetSecretVaultCommand"
            $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        }

        It 'Should unregister by name and by pipeline, leaving no default after the default goes' {
            Register-SecretVault -ModuleName StandIn -Name A
            Register-SecretVault -ModuleName StandIn -Name B

            Unregister-SecretVault A
            (Get-SecretVault).Name | Should -Be 'B'
            (Get-SecretVault B).IsDefault | Should -BeFalse

            Get-SecretVault | Unregister-SecretVault
            Get-SecretVault | Should -BeNullOrEmpty
        }

        It 'Should report unregistering an unknown literal name' {
            Unregister-SecretVault nosuch -ErrorVariable err -ErrorAction SilentlyContinue

            $err.FullyQualifiedErrorId |
                Should -Be "UnregisterSecretVaultObjectNotFound,$Ns.UnregisterSecretVaultCommand"
        }

        It 'Should set and clear the default vault, refusing an unknown one (terminating)' {
            Register-SecretVault -ModuleName StandIn -Name A
            Register-SecretVault -ModuleName StandIn -Name B

            Set-SecretVaultDefault b
            (Get-SecretVault B).IsDefault | Should -BeTrue
            Set-SecretVaultDefault -ClearDefault
            (Get-SecretVault).IsDefault | Should -Be @($false, $false)
            { Set-SecretVaultDefault nosuch } |
                Should -Throw -ErrorId "VaultNotFound,$Ns.SetSecretVaultDefaultCommand*"
        }
    }

    Describe 'Secret values' {
        BeforeEach {
            Register-SecretVault -ModuleName StandIn -Name V
        }

        It 'Should round-trip <Label> exactly with -AsPlainText' -ForEach @(
            @{ Label = 'Unicode'; Text = 'héllo wörld ✓ 日本語 🙂 ß' }
            @{ Label = 'quotes'; Text = 'double " single '' back `tick' }
            @{ Label = 'braces and brackets'; Text = '{braces} [brackets] $(dollar) {0}' }
            @{ Label = 'newlines'; Text = "line1`nline2`r`nline3`n" }
            @{ Label = 'JSON'; Text = '{"WAPIHost":"gm.example.com","Credential":' +
                '{"Username":"admin","Password":"p\"w{d}"},"Current":true}' }
            @{ Label = 'date-like text'; Text = '2024-01-02T03:04:05Z' }
            @{ Label = 'surrounding spaces'; Text = '  spaced  ' }
            @{ Label = '100,000 characters'; Text = 'x' * 100000 }
        ) {
            Set-Secret -Name s -Secret $Text -Vault V

            $back = Get-Secret -Name s -Vault V -AsPlainText

            $back | Should -BeOfType [string]
            $back | Should -BeExactly $Text
            (Get-SecretInfo s).Type | Should -Be 'String'
        }

        It 'Should return a string secret as a SecureString without -AsPlainText' {
            Set-Secret -Name s -Secret 'text'

            $back = Get-Secret s

            $back | Should -BeOfType [securestring]
            ConvertTo-PlainText $back | Should -BeExactly 'text'
        }

        It 'Should return an empty string secret as $null without -AsPlainText, and "" with it' {
            Set-Secret -Name s -Secret ''

            Get-Secret s -ErrorVariable err | Should -BeNullOrEmpty
            $err | Should -BeNullOrEmpty
            Get-Secret s -AsPlainText | Should -BeExactly ''
        }

        It 'Should store a SecureString as SecureString and give text only with -AsPlainText' {
            New-TestPassword 'pw' | Set-Secret -Name s

            (Get-SecretInfo s).Type | Should -Be 'SecureString'
            Get-Secret s | Should -BeOfType [securestring]
            Get-Secret s -AsPlainText | Should -BeExactly 'pw'
        }

        It 'Should round-trip byte[] and PSCredential secrets unchanged' {
            Set-Secret -Name bytes -Secret ([byte[]](0, 1, 255))
            $credential = [pscredential]::new('admin', (New-TestPassword 'pw'))
            Set-Secret -Name cred -Secret $credential

            $bytes = Get-Secret bytes
            $bytes.GetType() | Should -Be ([byte[]])
            $bytes | Should -Be @(0, 1, 255)
            (Get-Secret cred).UserName | Should -Be 'admin'
            (Get-Secret cred).GetNetworkCredential().Password | Should -Be 'pw'
            (Get-SecretInfo).Type | Should -Be @('ByteArray', 'PSCredential')
        }

        It 'Should convert the top-level values of a Hashtable secret like single secrets' {
            $table = @{ text = 'a'; bytes = [byte[]](7); secure = (New-TestPassword 's') }
            Set-Secret -Name h -Secret $table

            $default = Get-Secret h
            $plain = Get-Secret h -AsPlainText

            $default.text | Should -BeOfType [securestring]
            $default.secure | Should -BeOfType [securestring]
            $default.bytes.GetType() | Should -Be ([byte[]])
            $plain.text | Should -BeExactly 'a'
            $plain.secure | Should -BeExactly 's'
        }

        It 'Should refuse <Label> with a non-terminating SetSecretInvalidOperation' -ForEach @(
            @{ Label = 'an integer'; Value = 42 }
            @{ Label = 'an ordered dictionary'; Value = [ordered]@{ a = 'b' } }
            @{ Label = 'an array'; Value = @('a', 'b') }
            @{ Label = 'a Hashtable with a nested Hashtable'; Value = @{ a = @{ b = 'c' } } }
            @{ Label = 'a Hashtable of 21 entries'; Value = $(
                $table = @{}; foreach ($i in 1..21) { $table["k$i"] = 'v' }; $table) }
        ) {
            Set-Secret -Name s -Secret $Value -ErrorVariable err -ErrorAction SilentlyContinue

            $err.FullyQualifiedErrorId | Should -Be "SetSecretInvalidOperation,$Ns.SetSecretCommand"
            $err[0].Exception.InnerException | Should -BeOfType [ArgumentException]
            Get-SecretInfo | Should -BeNullOrEmpty
        }

        It 'Should silently not store an empty Hashtable' {
            Set-Secret -Name s -Secret @{} -ErrorVariable err

            $err | Should -BeNullOrEmpty
            Get-SecretInfo | Should -BeNullOrEmpty
        }

        It 'Should keep metadata, read integers as Int64, and clear it on overwrite without it' {
            $when = [datetime]::new(2024, 5, 1, 0, 0, 0, [DateTimeKind]::Utc)
            Set-Secret -Name s -Secret 'v' -Metadata @{ count = 3; when = $when; note = 'n' }

            $metadata = (Get-SecretInfo s).Metadata
            $metadata['count'] | Should -BeOfType [long]
            $metadata['count'] | Should -Be 3
            $metadata['when'] | Should -Be $when
            $metadata['note'] | Should -Be 'n'

            Set-Secret -Name s -Secret 'v2'
            (Get-SecretInfo s).Metadata.Count | Should -Be 0
        }

        It 'Should replace metadata with Set-SecretInfo and report a missing secret' {
            Set-Secret -Name s -Secret 'v' -Metadata @{ a = 'x' }

            Get-SecretInfo s | Set-SecretInfo -Metadata @{ b = 1 }
            Set-SecretInfo -Name nosuch -Metadata @{ b = 1 } `
                -ErrorVariable err -ErrorAction SilentlyContinue

            @((Get-SecretInfo s).Metadata.Keys) | Should -Be @('b')
            $err.FullyQualifiedErrorId |
                Should -Be "SecretStoreSetSecretInfoFailed,$Ns.SetSecretInfoCommand"
        }

        It 'Should copy a secret and its metadata into another vault with -SecretInfo' {
            Register-SecretVault -ModuleName StandIn -Name Other
            Set-Secret -Name s -Secret 'v' -Metadata @{ a = 'x' }

            Get-SecretInfo s -Vault V | Set-Secret -Vault Other

            Get-Secret s -Vault Other -AsPlainText | Should -Be 'v'
            (Get-SecretInfo s -Vault Other).Metadata['a'] | Should -Be 'x'
        }
    }

    Describe 'Secret names' {
        BeforeEach {
            Register-SecretVault -ModuleName StandIn -Name V
        }

        It 'Should treat names case-insensitively and keep the newest casing' {
            Set-Secret -Name 'name' -Secret 'one'
            Set-Secret -Name 'NAME' -Secret 'two'

            (Get-SecretInfo).Name | Should -BeExactly 'NAME'
            Get-Secret -Name 'Name' -AsPlainText | Should -Be 'two'
            Remove-Secret -Name 'nAmE' -Vault V
            Get-SecretInfo | Should -BeNullOrEmpty
        }

        It 'Should list sorted ordinal ignore-case, unlike Sort-Object' {
            foreach ($name in 'b', '_x', 'ä', 'Z', 'A') { Set-Secret -Name $name -Secret 'v' }

            (Get-SecretInfo).Name | Should -BeExactly @('A', 'b', 'Z', '_x', 'ä')
        }

        It 'Should match -Name as a wildcard pattern ignoring case' {
            foreach ($name in 'prefix-one', 'PREFIX-two', 'other') {
                Set-Secret -Name $name -Secret 'v'
            }

            (Get-SecretInfo -Name 'Prefix-*').Name | Should -Be @('prefix-one', 'PREFIX-two')
            (Get-SecretInfo -Name '').Name.Count | Should -Be 3
        }

        It 'Should need [WildcardPattern]::Escape for a literal name with brackets' {
            Set-Secret -Name 'a[1]' -Secret 'bracketed'
            Set-Secret -Name 'a1' -Secret 'plain'

            (Get-SecretInfo -Name 'a[1]').Name | Should -Be 'a1'
            (Get-SecretInfo -Name ([WildcardPattern]::Escape('a[1]'))).Name | Should -Be 'a[1]'
            Get-Secret -Name 'a[1]' -Vault V -AsPlainText | Should -Be 'bracketed'
        }

        It 'Should report a malformed pattern as a forwarded error and list nothing' {
            Set-Secret -Name 'a' -Secret 'v'

            $listed = Get-SecretInfo -Name 'a[' -ErrorVariable err -ErrorAction SilentlyContinue

            $listed | Should -BeNullOrEmpty
            $err.FullyQualifiedErrorId |
                Should -Be "WildcardPatternException,$Ns.GetSecretInfoCommand"
        }

        It 'Should treat Get-Secret -Name literally' {
            Set-Secret -Name 'abc' -Secret 'v'

            Get-Secret -Name 'a*' -Vault V -ErrorVariable err -ErrorAction SilentlyContinue |
                Should -BeNullOrEmpty
            $err.FullyQualifiedErrorId | Should -Be "GetSecretNotFound,$Ns.GetSecretCommand"
        }

        It 'Should skip the default vault when the name, as a pattern, lists nothing there' {
            # Code-derived quirk of the real module (§5): the default vault is
            # listed with the name as a pattern before it is read.
            Set-Secret -Name 'a[1]' -Secret 'v'

            Get-Secret -Name 'a[1]' -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            Get-Secret -Name 'a[1]' -Vault V -AsPlainText | Should -Be 'v'
        }

        It 'Should hide psht: names from listing while Get, Set and Remove work on them' {
            Set-Secret -Name 'psht:hidden' -Secret 'v'
            Set-Secret -Name 'shown' -Secret 'w'

            (Get-SecretInfo).Name | Should -Be 'shown'
            Get-Secret -Name 'psht:hidden' -Vault V -AsPlainText | Should -Be 'v'
            Remove-Secret -Name 'psht:hidden' -Vault V -ErrorVariable err
            $err | Should -BeNullOrEmpty
        }
    }

    Describe 'Lookup across vaults' {
        It 'Should search the default vault first, then the others by name' {
            Register-SecretVault -ModuleName StandIn -Name Zeta -DefaultVault
            Register-SecretVault -ModuleName StandIn -Name Alpha
            Register-SecretVault -ModuleName StandIn -Name Beta
            Set-Secret -Name s -Secret 'alpha' -Vault Alpha
            Set-Secret -Name s -Secret 'beta' -Vault Beta

            Get-Secret s -AsPlainText | Should -Be 'alpha'
            Set-Secret -Name s -Secret 'zeta'
            Get-Secret s -AsPlainText | Should -Be 'zeta'
            (Get-SecretInfo s).VaultName | Should -Be @('Zeta', 'Alpha', 'Beta')
        }

        It 'Should pass SecretInformation and names through the pipeline' {
            Register-SecretVault -ModuleName StandIn -Name V
            Set-Secret -Name a -Secret '1'
            Set-Secret -Name b -Secret '2'

            Get-SecretInfo | Get-Secret -AsPlainText | Should -Be @('1', '2')
            'a', 'b' | Get-Secret -AsPlainText | Should -Be @('1', '2')
            Get-SecretInfo a | Remove-Secret
            (Get-SecretInfo).Name | Should -Be 'b'
        }

        It 'Should warn when no vault is registered, then report the secret as not found' {
            Get-Secret s -WarningVariable warn -WarningAction SilentlyContinue `
                -ErrorVariable err -ErrorAction SilentlyContinue

            $warn.Count | Should -Be 1
            $err.FullyQualifiedErrorId | Should -Be "GetSecretNotFound,$Ns.GetSecretCommand"
        }
    }

    Describe 'Errors' {
        BeforeEach {
            Register-SecretVault -ModuleName StandIn -Name V
        }

        It 'Should report a missing secret once, non-terminating, with no output' {
            $value = Get-Secret -Name nosuch -ErrorVariable err -ErrorAction SilentlyContinue

            $value | Should -BeNullOrEmpty
            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId |
                Should -BeExactly "GetSecretNotFound,$Ns.GetSecretCommand"
            $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $err[0].Exception | Should -BeOfType [Management.Automation.ItemNotFoundException]
            $err[0].Exception.Message | Should -BeLike '*nosuch*'
            $err[0].TargetObject | Should -BeOfType [Management.Automation.PSCmdlet]
        }

        It 'Should throw a missing secret with -ErrorAction Stop' {
            { Get-Secret -Name nosuch -ErrorAction Stop } |
                Should -Throw -ErrorId "GetSecretNotFound,$Ns.GetSecretCommand"
        }

        It 'Should end the statement on an unknown -Vault whatever -ErrorAction says' {
            { Get-Secret -Name s -Vault nosuch -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId "GetSecretVaultNotFound,$Ns.GetSecretCommand*"
            { Get-SecretInfo -Vault nosuch } |
                Should -Throw -ErrorId "GetSecretVaultNotFound,$Ns.GetSecretInfoCommand*"
            { Remove-Secret -Name s -Vault nosuch } |
                Should -Throw -ErrorId "GetSecretVaultNotFound,$Ns.RemoveSecretCommand*"
            { Unlock-SecretVault nosuch (New-TestPassword 'p') } |
                Should -Throw -ErrorId "GetSecretVaultNotFound,$Ns.UnlockSecretVaultCommand*"
        }

        It 'Should append the function name to terminating errors (documented limit)' {
            $caught = $null
            try { Get-Secret -Name s -Vault nosuch } catch { $caught = $_ }

            $caught.FullyQualifiedErrorId |
                Should -BeExactly "GetSecretVaultNotFound,$Ns.GetSecretCommand,Get-Secret"
            $caught.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        }

        It 'Should end Set-Secret when there is no vault to write to' {
            Unregister-SecretVault V

            { Set-Secret -Name s -Secret 'v' -WarningAction SilentlyContinue } |
                Should -Throw -ErrorId "SetSecretCommandFailNoVault,$Ns.SetSecretCommand*"
        }

        It 'Should end Set-Secret -NoClobber when the secret exists, and add it when not' {
            Set-Secret -Name new -Secret 'v' -NoClobber
            Get-Secret new -AsPlainText | Should -Be 'v'

            { Set-Secret -Name new -Secret 'w' -NoClobber } |
                Should -Throw -ErrorId "SetSecretCommandAlreadyExistsWithNoClobber,$Ns.SetSecret*"
            Get-Secret new -AsPlainText | Should -Be 'v'
        }

        It 'Should forward the vault error for removing a missing secret' {
            Remove-Secret -Name nosuch -Vault V -ErrorVariable err -ErrorAction SilentlyContinue

            $err.FullyQualifiedErrorId |
                Should -BeExactly "SecretStoreRemoveSecretFailed,$Ns.RemoveSecretCommand"
            $err[0].Exception | Should -BeOfType [Management.Automation.ItemNotFoundException]
            # Forwarded vault errors carry the vault's target object: none.
            $err[0].TargetObject | Should -BeNullOrEmpty
        }

        It 'Should report an unknown literal name in Test-SecretVault without failing the others' {
            $result = Test-SecretVault -Name 'V', 'nosuch' `
                -ErrorVariable err -ErrorAction SilentlyContinue

            $result | Should -BeTrue
            $err.FullyQualifiedErrorId |
                Should -BeExactly "TestSecretVaultNotFound,$Ns.TestSecretVaultCommand"
        }

        It 'Should leave nothing but the reported errors in $Error' {
            $Error.Clear()

            Set-StandInVaultOption -Vault V -Option @{ ReadOnly = $true }
            Set-Secret -Name s -Secret 'v' -ErrorAction SilentlyContinue

            $Error.Count | Should -Be 1
            $Error[0].FullyQualifiedErrorId |
                Should -Be "SetSecretInvalidOperation,$Ns.SetSecretCommand"
        }

        It 'Should skip the vault call under -WhatIf' {
            Set-Secret -Name s -Secret 'v' -WhatIf
            Get-SecretInfo | Should -BeNullOrEmpty
        }
    }

    Describe 'Behaviour switch Password' {
        BeforeEach {
            Register-SecretVault StandIn Locked -VaultParameters @{ Password = 'right' }
        }

        It 'Should start locked: listing and Get-Secret -Vault give non-terminating errors' {
            $listed = Get-SecretInfo -Vault Locked `
                -ErrorVariable listErr -ErrorAction SilentlyContinue
            $value = Get-Secret s -Vault Locked -ErrorVariable getErr -ErrorAction SilentlyContinue

            $listed | Should -BeNullOrEmpty
            $listErr.FullyQualifiedErrorId |
                Should -BeExactly "GetSecretInfoException,$Ns.GetSecretInfoCommand"
            $listErr[0].Exception |
                Should -BeOfType [Microsoft.PowerShell.SecretManagement.PasswordRequiredException]
            $value | Should -BeNullOrEmpty
            $getErr.FullyQualifiedErrorId |
                Should -BeExactly "GetSecretException,$Ns.GetSecretCommand"
        }

        It 'Should end <Label> with a PasswordRequiredException while locked' -ForEach @(
            @{ Label = 'Set-Secret'; Command = 'SetSecretCommand'
                Action = { Set-Secret -Name s -Secret 'v' -ErrorAction SilentlyContinue } }
            @{ Label = 'Remove-Secret'; Command = 'RemoveSecretCommand'
                Action = { Remove-Secret -Name s -Vault Locked } }
            @{ Label = 'Set-SecretInfo'; Command = 'SetSecretInfoCommand'
                Action = { Set-SecretInfo -Name s -Metadata @{ a = 1 } } }
            @{ Label = 'Get-Secret without -Vault (default vault)'; Command = 'GetSecretCommand'
                Action = { Get-Secret s } }
        ) {
            $Action | Should -Throw -ErrorId "$Ns.PasswordRequiredException,$Ns.$Command*"
        }

        It 'Should fail Test-SecretVault with $false and two errors, never prompting' {
            $result = Test-SecretVault Locked -ErrorVariable err -ErrorAction SilentlyContinue

            $result | Should -BeFalse
            $err.FullyQualifiedErrorId | Should -Be @(
                "PasswordRequiredException,$Ns.TestSecretVaultCommand"
                "Microsoft.PowerShell.Commands.WriteErrorException,$Ns.TestSecretVaultCommand")
        }

        It 'Should refuse a wrong password with SecretStoreUnlockFailed' {
            Unlock-SecretVault -Name Locked -Password (New-TestPassword 'wrong') `
                -ErrorVariable err -ErrorAction SilentlyContinue

            $err.FullyQualifiedErrorId |
                Should -BeExactly "SecretStoreUnlockFailed,$Ns.UnlockSecretVaultCommand"
            $err[0].CategoryInfo.Category | Should -Be 'AuthenticationError'
            Test-SecretVault Locked -ErrorAction SilentlyContinue | Should -BeFalse
        }

        It 'Should work fully after Unlock-SecretVault with the right password' {
            Unlock-SecretVault -Name Locked -Password (New-TestPassword 'right')

            Set-Secret -Name s -Secret 'v'
            Get-Secret s -AsPlainText | Should -Be 'v'
            (Get-SecretInfo).Name | Should -Be 's'
            Test-SecretVault Locked | Should -BeTrue
            Remove-Secret s -Vault Locked
        }

        It 'Should stay unlocked for the process across Import-Module -Force' {
            Unlock-SecretVault Locked (New-TestPassword 'right')

            Import-Module Microsoft.PowerShell.SecretManagement -Force

            Test-SecretVault Locked | Should -BeTrue
        }

        It 'Should lock again after a wrong password or a password change' {
            Unlock-SecretVault Locked (New-TestPassword 'right')
            Unlock-SecretVault Locked (New-TestPassword 'wrong') -ErrorAction SilentlyContinue
            { Set-Secret -Name s -Secret 'v' } |
                Should -Throw -ErrorId "$Ns.PasswordRequiredException,*"

            Unlock-SecretVault Locked (New-TestPassword 'right')
            Set-StandInVaultOption -Vault Locked -Option @{ Password = 'changed' }
            { Set-Secret -Name s -Secret 'v' } |
                Should -Throw -ErrorId "$Ns.PasswordRequiredException,*"
        }

        It 'Should keep searching past a locked vault that is not the default' {
            Register-SecretVault -ModuleName StandIn -Name Open -DefaultVault

            Get-Secret s -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty

            $err.FullyQualifiedErrorId | Should -Be @(
                "GetSecretException,$Ns.GetSecretCommand"
                "GetSecretNotFound,$Ns.GetSecretCommand")
        }

        It 'Should only warn when unlocking a vault that has no password' {
            Register-SecretVault -ModuleName StandIn -Name Open

            Unlock-SecretVault Open (New-TestPassword 'x') `
                -WarningVariable warn -WarningAction SilentlyContinue `
                -ErrorVariable err

            $warn.Count | Should -Be 1
            $err | Should -BeNullOrEmpty
        }
    }

    Describe 'Behaviour switches ReadOnly, NamePattern, SoftDelete, FailTest, BrokenSecrets' {
        It 'ReadOnly: Should refuse writes and removals, saying the vault is read-only' {
            Register-SecretVault -ModuleName StandIn -Name V
            Set-Secret -Name s -Secret 'v'
            Set-StandInVaultOption -Vault V -Option @{ ReadOnly = $true }

            Set-Secret -Name s -Secret 'w' -ErrorVariable setErr -ErrorAction SilentlyContinue
            Remove-Secret -Name s -Vault V -ErrorVariable removeErr -ErrorAction SilentlyContinue

            $setErr.FullyQualifiedErrorId |
                Should -BeExactly "SetSecretInvalidOperation,$Ns.SetSecretCommand"
            $setErr[0].Exception |
                Should -BeOfType [Management.Automation.PSInvalidOperationException]
            $setErr[0].Exception.InnerException.Message | Should -BeLike '*read-only*'
            $removeErr.FullyQualifiedErrorId |
                Should -BeExactly "RemoveSecretInvalidOperation,$Ns.RemoveSecretCommand"
            Get-Secret s -AsPlainText | Should -Be 'v'
        }

        It 'ReadOnly: Should allow writes again when switched off' {
            Register-SecretVault -ModuleName StandIn -Name V -VaultParameters @{ ReadOnly = $true }

            Set-StandInVaultOption -Vault V -Option @{ ReadOnly = $null }
            Set-Secret -Name s -Secret 'v'

            Get-Secret s -AsPlainText | Should -Be 'v'
            (Get-SecretVault V).VaultParameters.Keys | Should -Not -Contain 'ReadOnly'
        }

        It 'NamePattern: Should refuse a name that breaks the rule, naming the rule' {
            Register-SecretVault StandIn Az -VaultParameters @{ NamePattern = '^[0-9a-zA-Z-]+$' }

            Set-Secret -Name 'poshibwapi_prod' -Secret 'v' `
                -ErrorVariable err -ErrorAction SilentlyContinue
            Set-Secret -Name 'poshibwapi-prod' -Secret 'v'

            $err.FullyQualifiedErrorId |
                Should -BeExactly "SetSecretInvalidOperation,$Ns.SetSecretCommand"
            $err[0].Exception.InnerException.Message | Should -BeLike "*'^[[]0-9a-zA-Z-]+$'*"
            (Get-SecretInfo).Name | Should -Be 'poshibwapi-prod'
        }

        It 'SoftDelete: Should block a removed name until Clear-StandInDeleted' {
            Register-SecretVault StandIn Az -VaultParameters @{ SoftDelete = $true }
            Set-Secret -Name s -Secret 'v'
            Remove-Secret -Name s -Vault Az

            Set-Secret -Name S -Secret 'w' -ErrorVariable err -ErrorAction SilentlyContinue

            $err.FullyQualifiedErrorId |
                Should -BeExactly "SetSecretInvalidOperation,$Ns.SetSecretCommand"
            $err[0].Exception.InnerException.Message | Should -BeLike '*soft-deleted*purge*recover*'
            Get-SecretInfo | Should -BeNullOrEmpty

            Clear-StandInDeleted -Vault Az
            Set-Secret -Name S -Secret 'w'
            Get-Secret s -AsPlainText | Should -Be 'w'
        }

        It 'FailTest: Should make Test-SecretVault return $false with an error' {
            Register-SecretVault -ModuleName StandIn -Name Good
            Register-SecretVault StandIn Bad -VaultParameters @{ FailTest = $true }

            $all = Test-SecretVault -ErrorVariable err -ErrorAction SilentlyContinue

            $all | Should -BeFalse
            Test-SecretVault Good | Should -BeTrue
            $err.FullyQualifiedErrorId |
                Should -BeExactly "$WriteErrorId,$Ns.TestSecretVaultCommand"
            { Test-SecretVault Bad -ErrorAction Stop } | Should -Throw
        }

        It 'BrokenSecrets: Should fail reading those names only, still listing them' {
            Register-SecretVault StandIn V -VaultParameters @{ BrokenSecrets = @('bad') }
            Set-Secret -Name bad -Secret 'v'
            Set-Secret -Name good -Secret 'w'

            $value = Get-Secret bad -Vault V -ErrorVariable err -ErrorAction SilentlyContinue

            $value | Should -BeNullOrEmpty
            $err.FullyQualifiedErrorId | Should -Be @(
                "GetSecretInvalidOperation,$Ns.GetSecretCommand"
                "GetSecretNotFound,$Ns.GetSecretCommand")
            $err[0].Exception.InnerException.Message | Should -BeLike '*BrokenSecrets*'
            Get-Secret good -AsPlainText | Should -Be 'w'
            (Get-SecretInfo).Name | Should -Be @('bad', 'good')
        }
    }

    Describe 'Call counting' {
        BeforeEach {
            Register-SecretVault -ModuleName StandIn -Name A
            Register-SecretVault -ModuleName StandIn -Name B
            $null = Get-StandInCallCount -Reset
        }

        It 'Should count each vault function call, as SecretManagement makes them' {
            Set-Secret -Name s -Secret 'v' -Vault A
            $null = Get-Secret s -Vault A
            # Without -Vault the default vault is listed first, then read.
            $null = Get-Secret s

            $counts = Get-StandInCallCount -Vault A
            $counts['Set-Secret'] | Should -Be 1
            $counts['Get-Secret'] | Should -Be 2
            $counts['Get-SecretInfo'] | Should -Be 1
        }

        It 'Should count per vault or in total, and reset after reading' {
            $null = Test-SecretVault

            (Get-StandInCallCount -Vault B)['Test-SecretVault'] | Should -Be 1
            (Get-StandInCallCount -Reset)['Test-SecretVault'] | Should -Be 2
            (Get-StandInCallCount).Count | Should -Be 0
        }
    }

    Describe 'Sharing between processes' {
        It 'Should share secrets, options and call counts live with a second process' {
            Register-SecretVault -ModuleName StandIn -Name V
            Set-Secret -Name parent -Secret 'from parent ✓'
            $null = Get-StandInCallCount -Reset

            $output = Invoke-ChildProcess @'
Get-Secret -Name parent -AsPlainText
Set-Secret -Name child -Secret 'from child'
'@

            $output | Should -Be 'from parent ✓'
            Get-Secret child -AsPlainText | Should -Be 'from child'
            (Get-StandInCallCount)['Set-Secret'] | Should -Be 1
        }

        It 'Should start a second process locked even when this one is unlocked' {
            Register-SecretVault -ModuleName StandIn -Name V -VaultParameters @{ Password = 'pw' }
            Unlock-SecretVault V (ConvertTo-SecureString 'pw' -AsPlainText -Force)
            Set-Secret -Name s -Secret 'v'

            $output = Invoke-ChildProcess @'
$ErrorActionPreference = 'Continue'
Get-Secret -Name s -Vault V -ErrorVariable err -ErrorAction SilentlyContinue
$err.FullyQualifiedErrorId
Unlock-SecretVault V (ConvertTo-SecureString 'pw' -AsPlainText -Force)
Get-Secret -Name s -Vault V -AsPlainText
'@

            $output |
                Should -Be @("GetSecretException,$Ns.GetSecretCommand", 'v')
        }

        It 'Should keep both processes'' writes when they write at the same time' {
            Register-SecretVault -ModuleName StandIn -Name V
            $command = Get-PwshCommand
            $script = New-ChildScript '1..25 | ForEach-Object { Set-Secret "child-$_" "$_" }'
            $arguments = @($command | Select-Object -Skip 1) + (Get-ChildArgument $script)

            $child = Start-Process $command[0] -ArgumentList $arguments -PassThru -NoNewWindow
            1..25 | ForEach-Object { Set-Secret -Name "parent-$_" -Secret "$_" }
            $child.WaitForExit()

            $child.ExitCode | Should -Be 0
            @(Get-SecretInfo 'child-*').Count | Should -Be 25
            @(Get-SecretInfo 'parent-*').Count | Should -Be 25
        }
    }
}
