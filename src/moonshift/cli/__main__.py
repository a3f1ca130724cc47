from moonshift.cli.main import main

main()
