complete -c siksim -l persona -d 'The persona of the SPEC addresses' -r -f -a "eh\t'EtherHaul radio (EH-710TX, EH-600TX, EH-1200F, EH-8010FX)'
bu\t'Classic MultiHaul base unit (MH-B100)'
tu\t'Classic MultiHaul terminal unit (MH-T200 / MH-T201)'
tg\t'MultiHaul TG distribution node with client nodes behind it'
wrong-password\t'A radio whose password is not the fleet\'s (its banner is still sent)'
linux\t'A Linux host: no banner, `$ ` prompt, `command not found`'
router\t'A non-Siklu router: a banner without a comma and a `Router>` prompt'
closed\t'Nothing listens: the connection is refused'
silent\t'TCP is accepted but no SSH identification is ever sent'
black-hole\t'The connection attempt times out (a listener whose accept queue is full)'
garbage\t'A non-SSH protocol line, then the connection is closed'
slow\t'A radio that delays every login and every response'
hang\t'A radio that stops in the middle of a command\'s output and never finishes it'
huge\t'A radio whose `show log` output is megabytes long'
legacy-only\t'A radio that offers only legacy SSH algorithms (SHA-1 key exchange, ssh-rsa, CBC, hmac-sha1)'
kbd-interactive\t'A radio that accepts keyboard-interactive authentication only'
pager\t'A radio whose pager stops every few lines with `--More--` until a key is sent'
telnet\t'An EtherHaul radio that offers only Telnet: no SSH listener'"
complete -c siksim -s f -l fleet -d 'Read the fleet from FILE (TOML, or JSON when it ends in .json)' -r -F
complete -c siksim -s p -l port -d 'TCP port every device listens on' -r
complete -c siksim -l telnet-port -d 'TCP port of the Telnet service of devices that serve Telnet (the telnet persona, groups with \'telnet = true\') [default: --port + 1, so 23 beside 22]' -r
complete -c siksim -l seed -d 'Seed of every per-device value: the same seed serves the same fleet' -r
complete -c siksim -l pidfile -d 'Write the process id to FILE once serving; removed on a clean stop' -r -F
complete -c siksim -l events -d 'Append one JSON line per event (login, command, disconnect, rollback-armed, rollback-cleared, rollback-expired, reboot, up, management-cut, saved) to FILE as it happens' -r -F
complete -c siksim -l workers -d 'Serve the fleet from N worker processes (default: one process, or as many as the open-file limit requires)' -r
complete -c siksim -l generate -d 'Print a man page or a shell completion script' -r -f -a "man\t'The roff man page (section 1)'
bash\t'bash completion'
zsh\t'zsh completion'
fish\t'fish completion'"
complete -c siksim -l worker -d 'Serve slice K of N of the fleet as a worker of another siksim' -r
complete -c siksim -l demo -d 'Serve the demo fleet on 127.77.0.0/24'
complete -c siksim -l describe -d 'Print the ground truth as NDJSON (one line per device and per TG client node), then exit without serving'
complete -c siksim -s q -l quiet -d 'Print nothing on stderr but errors and the ready line'
complete -c siksim -s h -l help -d 'Print help (see more with \'--help\')'
complete -c siksim -s V -l version -d 'Print version'
