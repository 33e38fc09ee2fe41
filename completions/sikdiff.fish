complete -c sikdiff -l format -d 'How to write the events: ndjson (one JSON object per radio) or text (counts first, then one block per radio, for a mail or a cron log)' -r -f -a "ndjson\t'One JSON object per radio that differs'
text\t'A report for a person: the counts, then one block per radio'"
complete -c sikdiff -l generate -d 'Print a man page or a shell completion script' -r -f -a "man\t'The roff man page (section 1)'
bash\t'bash completion'
zsh\t'zsh completion'
fish\t'fish completion'"
complete -c sikdiff -l all-fields -d 'Compare every field of the records exactly, the volatile ones included (not the timing of the run: started, elapsed_ms)'
complete -c sikdiff -l line-buffered -d 'Flush each event as soon as it is written'
complete -c sikdiff -s q -l quiet -d 'Print nothing on stderr but errors and warnings (no summary)'
complete -c sikdiff -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sikdiff -s V -l version -d 'Print version'
