complete -c batchsave -l configs -d 'Also keep every radio\'s configuration (records of \'sikprobe -a backup\') in the git repository DIR, created if missing: one file per radio, index.tsv, one commit per run that changed something' -r -F
complete -c batchsave -l mask -d 'With --configs: replace what REGEX matches in every configuration with <masked> before archiving it (\'^\' and \'$\' match at line ends); repeatable' -r
complete -c batchsave -s f -l file -d 'Read records from FILE instead of standard input (\'-\' is standard input)' -r -F
complete -c batchsave -s n -l batch-size -d 'Close a batch after N records' -r
complete -c batchsave -l every -d 'Close a batch DURATION after its first record (500ms, 30s, 5m...), so no record waits longer than that to be saved' -r
complete -c batchsave -l format -d 'Formats written for each batch, comma-separated' -r -f -a "csv\t'RFC 4180 CSV (CRLF, minimal quoting), nested fields flattened with dotted names'
json\t'One JSON array of the batch\'s records'
ndjson\t'The batch\'s input lines, one JSON object per line'"
complete -c batchsave -l fields -d 'Fix the CSV columns to these flattened names, comma-separated (other names are left out of the CSV; JSON and NDJSON keep everything)' -r
complete -c batchsave -l by -d 'Write one file series per value of FIELD (a flattened name, such as radio_type or show.rf_oper)' -r
complete -c batchsave -l layout -d 'Also write another tool\'s files for each batch' -r -f -a "batchscanner\t'batchscanner 0.1.7\'s per-batch CSV files, same names (plus the batch number), columns, line ends and error strings'"
complete -c batchsave -l exec -d 'Run CMD with \'sh -c\' on each finished file, \'{}\' being the file\'s path (appended when CMD has no \'{}\'); its output goes to stderr' -r
complete -c batchsave -l generate -d 'Print a man page or a shell completion script' -r -f -a "man\t'The roff man page (section 1)'
bash\t'bash completion'
zsh\t'zsh completion'
fish\t'fish completion'"
complete -c batchsave -l csv-raw -d 'Keep raw device text (commands.N.output and .stderr, config, startup_config) in the CSV files, as their last columns; JSON and NDJSON always keep it'
complete -c batchsave -l excel-safe -d 'Prefix CSV cells that start with = + - @ (formulas in a spreadsheet) with \''
complete -c batchsave -l tee -d 'Copy the input to standard output unchanged, so batchsave can sit mid-pipeline'
complete -c batchsave -l allow-rejects -d 'Exit 0 even when lines were rejected'
complete -c batchsave -s q -l quiet -d 'Print nothing on stderr but errors and warnings (no notes, no summary)'
complete -c batchsave -s h -l help -d 'Print help (see more with \'--help\')'
complete -c batchsave -s V -l version -d 'Print version'
