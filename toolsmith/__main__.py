import sys

from toolsmith.cli import main

sys.exit(main())
