from zitkg.cli import main

main()
