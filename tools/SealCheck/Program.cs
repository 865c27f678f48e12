using HekiGuest.Tools.SealCheck.Cli;

return SealCheckCommand.Run(args, Console.Out, Console.Error);
