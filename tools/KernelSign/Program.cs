return HekiGuest.Tools.KernelSign.Cli.KernelSignCommand.Run(args, Console.Out, Console.Error);
