// The interpreter's hot methods have many scalar locals; zero-initialising their frames is pure overhead.
[module: System.Runtime.CompilerServices.SkipLocalsInit]
