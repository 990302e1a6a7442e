from orgctl.cli import main

main()
