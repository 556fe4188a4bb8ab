# The cmdlets live in PoshIBWAPI.Config.dll (a nested module, loaded first).
# This script only opens the profile store at import and replays what the
# native core reported on the importer's streams, so that warnings about the
# config file, the environment variables or the vault appear at import time.

$records = [PoshIBWAPI.Config.ModuleSession]::Open($ExecutionContext.SessionState)
foreach ($record in $records) {
    switch ($record.Level) {
        'Error'   { Write-Error -ErrorRecord $record.ToErrorRecord() }
        'Warning' { Write-Warning -Message $record.Message }
        'Info'    { Write-Verbose -Message $record.Message }
        default   { Write-Debug -Message $record.Message }
    }
}

$ExecutionContext.SessionState.Module.OnRemove = {
    [PoshIBWAPI.Config.ModuleSession]::Close()
}
