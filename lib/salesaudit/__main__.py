from salesaudit.cli import main

raise SystemExit(main())
