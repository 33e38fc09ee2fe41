complete -c sikprobe -s f -l file -d 'Read addresses from FILE instead of standard input (\'-\' is standard input)' -r -F
complete -c sikprobe -s a -l action -d 'What to do on each radio [default: scan, or script with -c/--script]' -r -f -a "scan\t'Identify the radio and report it'
show\t'Send the radio type\'s show commands and parse them into the record\'s \'show\''
script\t'Send the commands of -c / --script'
set-tod\t'Set the radio\'s clock (local clock + --time-shift, or --at) and read it back'
backup\t'Read the configuration into \'config\' (EH/BU/TU: running; TG: show startup), and on EH/BU/TU \'startup_config\', with \'config_saved\' and \'config_sha256\''"
complete -c sikprobe -l platform -d 'Which kind of device to expect' -r -f -a "siklu\t'Siklu radios only: a host that is not one is \'not-siklu\''
generic\t'Any SSH host: each -c/--script command on its own exec channel (no PTY, no prompt), \'ok\' or \'command-failed\' by exit status'
auto\t'Siklu first; a host that is not a radio runs the commands as generic'"
complete -c sikprobe -l transport -d 'How to reach the devices' -r -f -a "native\t'SSH with the built-in client'
openssh\t'SSH with the system OpenSSH client (honours ~/.ssh/config, -F and -o)'
auto\t'Native first; a host whose identification or key exchange fails is tried once more with OpenSSH (never after an authentication failure)'
telnet\t'Telnet, logging in at the login and password prompts'"
complete -c sikprobe -s F -l ssh-config -d '--transport openssh/auto: use this ssh_config file instead of ~/.ssh/config' -r -F
complete -c sikprobe -s o -l ssh-option -d '--transport openssh/auto: an ssh option (\'ProxyJump=bastion\', \'KexAlgorithms=+diffie-hellman-group1-sha1\'); repeatable; beats the config file and sikprobe\'s own defaults' -r
complete -c sikprobe -l check -d 'Instead of an action, check which protocols accept a login (one record per address with \'reachable\'); a protocol not listed is reported false' -r -f -a "ssh\t'SSH, on the address\'s port'
telnet\t'Telnet, on --telnet-port'"
complete -c sikprobe -l telnet-port -d 'Telnet port for --check' -r
complete -c sikprobe -s c -l command -d 'A command to send (implies --action script); repeatable, sent in order' -r
complete -c sikprobe -l script -d 'Send the commands of FILE, one per line (\'#\' comments and blank lines skipped)' -r -F
complete -c sikprobe -l guard -d 'Make the script a guarded change (EH, BU, TU): read the running configuration, arm the radio\'s rollback timer for DURATION (\'set rollback timeout N\'), send the commands, verify from a new session (--verify, --expect; tried again for half the guard), then \'clear rollback\' (and --save). Not verified, the timer reverts the radio, which is waited for (--revert-wait) and compared with its configuration before: \'reverted\', or \'unconfirmed\' for a person to look at. TG radios, which have no timer, are \'skipped\'' -r
complete -c sikprobe -l verify -d 'With --guard: a command to run in the new session; repeatable, each paired with the --expect of the same rank' -r
complete -c sikprobe -l expect -d 'With --guard: a regular expression the answer of the --verify command of the same rank must match, e.g. \'rf operational\\s*:\\s*up\'' -r
complete -c sikprobe -l revert-wait -d 'With --guard: how long an unconfirmed radio may take, from its rollback timer\'s expiry, to come back' -r
complete -c sikprobe -l time-shift -d 'set-tod: hours (\'2.5\', \'-1\') or a duration (\'90m\', \'-30s\') added to the local clock' -r
complete -c sikprobe -l at -d 'set-tod: set this wall-clock time instead (RFC 3339, set as written)' -r
complete -c sikprobe -l cn -d 'Visit only this client node (implies --cns); repeatable' -r
complete -c sikprobe -s j -l concurrency -d 'Hosts probed at once' -r
complete -c sikprobe -l rate -d 'Start at most N new connections per second' -r
complete -c sikprobe -l canary -d 'Probe the first N hosts of the input alone (up to -j at once); start the rest only when all N ended \'ok\', else give every other line a \'skipped\' record and exit 1' -r
complete -c sikprobe -l max-failures -d 'Start no new host once more than N hosts (or P% of the finished hosts, counting at least 10 as finished) ended other than \'ok\'; the hosts in flight finish, every other line gets a \'skipped\' record, and sikprobe exits 1' -r
complete -c sikprobe -s p -l port -d 'Port for input lines that name none [default: 22, or 23 with --transport telnet]' -r
complete -c sikprobe -s u -l user -d 'Username to log in with (a --credentials file may scope others)' -r
complete -c sikprobe -l password-file -d 'Read the password from the first line of FILE' -r -F
complete -c sikprobe -l credentials -d 'batchscanner network file whose \'username = ...\' / \'password = ...\' lines scope the addresses below them; an address in several sets tries them in order' -r -F
complete -c sikprobe -s i -l identity -d 'Private key to offer before passwords; repeatable (unencrypted keys; use the agent for encrypted ones)' -r -F
complete -c sikprobe -l host-keys -d 'Host-key policy' -r -f -a "record\t'Accept any key and record its fingerprint in `host_key`'
tofu\t'Trust on first use: remember unknown keys in --known-hosts, reject changed ones'
strict\t'Accept only keys already in --known-hosts'"
complete -c sikprobe -l known-hosts -d 'known_hosts file for --host-keys tofu or strict' -r -F
complete -c sikprobe -l connect-timeout -d 'TCP connect timeout' -r
complete -c sikprobe -l handshake-timeout -d 'Timeout for the SSH identification and key exchange' -r
complete -c sikprobe -l auth-timeout -d 'Timeout for each authentication attempt (over Telnet: for each login prompt)' -r
complete -c sikprobe -l prompt-timeout -d 'Timeout for the first CLI prompt after login' -r
complete -c sikprobe -l command-timeout -d 'Timeout for each command\'s answer' -r
complete -c sikprobe -l deadline -d 'The most time one host may take, whatever it does (its retries included); a cut host reports \'deadline\' [default: 60s; with --guard: the guard, --revert-wait and 2m]' -r
complete -c sikprobe -l retries -d 'Try a host again up to N times when it failed before anything was sent to it in a way that can pass (connect-timeout, no-ssh, a key exchange that timed out, io-error); never after auth-failed (lockouts) or once the login succeeded. The earlier attempts are listed in the record\'s \'attempts\'' -r
complete -c sikprobe -l retry-backoff -d 'Wait this long before the first retry, twice as long before each next one (each wait varied by up to a quarter, so that retried hosts do not come back in step)' -r
complete -c sikprobe -l skip-done -d 'Skip hosts that already have a final record in these NDJSON files or batchsave output directories; repeatable' -r -F
complete -c sikprobe -l retry -d 'Statuses to try again although --skip-done counts them as final (final by default: ok, auth-failed, not-siklu, refused, unconfirmed)' -r
complete -c sikprobe -l total -d 'Expected number of hosts, for the progress bar\'s ETA (e.g. from \'ipgen --count\')' -r
complete -c sikprobe -l summary -d 'Write the final summary as JSON to FILE' -r -F
complete -c sikprobe -l generate -d 'Print a man page or a shell completion script' -r -f -a "man\t'The roff man page (section 1)'
bash\t'bash completion'
zsh\t'zsh completion'
fish\t'fish completion'"
complete -c sikprobe -l stop-on-error -d 'Stop a radio\'s script at its first failed command'
complete -c sikprobe -l allow-errors -d 'Report \'ok\' even when a command answered with a CLI error (each command\'s \'ok\' still says so)'
complete -c sikprobe -l dry-run -d 'Log in and identify each radio, and record the commands the action would send in \'commands\' with "sent": false, sending none of them (-a script and -a set-tod only)'
complete -c sikprobe -l save -d 'With --guard: once a change is confirmed (never before), save it as the startup configuration (\'copy running-configuration startup-configuration\')'
complete -c sikprobe -l cns -d 'Also visit the active client nodes of each TG DN (connect / quit) and write one record per node, with \'route\' and \'parent\''
complete -c sikprobe -l ask-password -d 'Ask for the password on the terminal'
complete -c sikprobe -l no-agent -d 'Do not offer the identities of the SSH agent at SSH_AUTH_SOCK'
complete -c sikprobe -l legacy-algorithms -d 'Also offer legacy algorithms (diffie-hellman-group14-sha1, group1-sha1, group-exchange-sha1, ssh-rsa, aes-cbc, 3des-cbc, hmac-sha1) after the modern ones'
complete -c sikprobe -l ordered -d 'Write records in input order (a reorder window of max(4 x -j, 1024) records bounds the memory; a slow host holds back at most that many)'
complete -c sikprobe -l emit-skipped -d 'Write a \'skipped\' record for each host skipped by --skip-done'
complete -c sikprobe -l line-buffered -d 'Flush every record as soon as it is written'
complete -c sikprobe -s q -l quiet -d 'Print nothing on stderr but errors (no progress, no summary)'
complete -c sikprobe -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sikprobe -s V -l version -d 'Print version'
