complete -c ipgen -s f -l file -d 'Read specifications from FILE, one per line (\'-\' is standard input); repeatable' -r -F
complete -c ipgen -s x -l exclude -d 'Remove the addresses of SPEC from the set; repeatable' -r
complete -c ipgen -l exclude-file -d 'Remove every address listed in FILE (one spec per line, \'#\' comments, zmap blocklist style); repeatable' -r -F
complete -c ipgen -l seed -d 'Seed for --shuffle: the same seed and input give the same order. When omitted, one is chosen and printed on stderr' -r
complete -c ipgen -l shard -d 'Print only shard K of N (1-based): the N shards are disjoint and cover the set exactly once, shuffled or not. With --shuffle every shard must use the same --seed' -r
complete -c ipgen -s n -l limit -d 'Print at most N addresses' -r
complete -c ipgen -l generate -d 'Print a man page or a shell completion script' -r -f -a "man\t'The roff man page (section 1)'
bash\t'bash completion'
zsh\t'zsh completion'
fish\t'fish completion'"
complete -c ipgen -s a -l all -d 'Give every address of a CIDR block, network and broadcast included'
complete -c ipgen -s s -l shuffle -d 'Print the set in a pseudo-random order (a seeded permutation, O(1) memory)'
complete -c ipgen -s c -l count -d 'Print how many addresses would be printed, without expanding them (any size)'
complete -c ipgen -s 0 -l null -d 'End each address with NUL instead of newline (for xargs -0)'
complete -c ipgen -l no-size-limit -d 'Allow printing more than 2^32 addresses'
complete -c ipgen -l line-buffered -d 'Flush every address as soon as it is printed'
complete -c ipgen -s q -l quiet -d 'Print nothing on stderr but errors (not even the chosen seed)'
complete -c ipgen -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ipgen -s V -l version -d 'Print version'
