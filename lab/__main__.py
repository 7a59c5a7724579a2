import sys

from lab.entry import main

sys.exit(main())
