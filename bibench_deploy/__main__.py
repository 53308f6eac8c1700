from bibench_deploy.cli import main

main()
