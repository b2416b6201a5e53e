from s2crnet.cli import main

main()
