using BenchmarkDotNet.Running;

// Examples: dotnet run -c Release -- --filter '*' --job short
//           dotnet run -c Release -- --filter '*Session*' --job short
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
