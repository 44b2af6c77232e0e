from civic_iot.cli import main

raise SystemExit(main())
