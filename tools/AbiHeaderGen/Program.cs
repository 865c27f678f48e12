return HekiGuest.Tools.AbiHeaderGen.Cli.AbiHeaderCommand.Run(args, Console.Out, Console.Error);
