using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Text;
using PoshIBWAPI.Config.Native;

namespace PoshIBWAPI.Config
{
    /// <summary>
    /// Completes -ProfileName from the saved profile names: matched without
    /// regard to case, and quoted whenever the name would not otherwise run
    /// as one literal argument.
    /// </summary>
    public sealed class ProfileNameCompleter : IArgumentCompleter
    {
        private const string SingleQuotes = "'\u2018\u2019\u201A\u201B";
        private const string DoubleQuotes = "\"\u201C\u201D\u201E";

        /// <inheritdoc/>
        public IEnumerable<CompletionResult> CompleteArgument(
            string commandName,
            string parameterName,
            string wordToComplete,
            CommandAst commandAst,
            IDictionary fakeBoundParameters)
        {
            NativeStore store = ModuleSession.TryGet();
            if (store == null)
            {
                return Enumerable.Empty<CompletionResult>();
            }

            List<ProfileRecord> profiles;
            try
            {
                profiles = store.List();
            }
            finally
            {
                NativeLog.Drain();
            }

            return Complete(profiles.Select(p => p.ProfileName), wordToComplete ?? string.Empty);
        }

        /// <summary>
        /// The completions of <paramref name="word"/> among <paramref name="names"/>.
        /// </summary>
        internal static IEnumerable<CompletionResult> Complete(
            IEnumerable<string> names, string word)
        {
            char quote = StartingQuote(word);
            string prefix = quote == '\0' ? word : Unquote(word);
            return names
                .Where(n => n.StartsWith(prefix, StringComparison.CurrentCultureIgnoreCase))
                .Select(n => new CompletionResult(
                    Quote(n, quote), n, CompletionResultType.ParameterValue, n))
                .ToList();
        }

        /// <summary>
        /// The text that makes <paramref name="name"/> one literal argument,
        /// in the quote style the user started with, if any.
        /// </summary>
        internal static string Quote(string name, char startedWith)
        {
            if (DoubleQuotes.IndexOf(startedWith) >= 0)
            {
                return startedWith + EscapeForDoubleQuotes(name) + startedWith;
            }

            if (startedWith == '\0' && !NeedsQuotes(name))
            {
                return name;
            }

            char quote = startedWith == '\0' ? '\'' : startedWith;
            return quote + EscapeForSingleQuotes(name) + quote;
        }

        private static char StartingQuote(string word)
        {
            if (word.Length > 0 && (SingleQuotes + DoubleQuotes).IndexOf(word[0]) >= 0)
            {
                return word[0];
            }

            return '\0';
        }

        private static string Unquote(string word)
        {
            // PowerShell hands over an unfinished quoted word with its closing
            // quote added: 'la becomes 'la'.
            string inner = word.Substring(1);
            if (inner.Length > 0
                && (SingleQuotes + DoubleQuotes).IndexOf(inner[inner.Length - 1]) >= 0)
            {
                inner = inner.Substring(0, inner.Length - 1);
            }

            return inner;
        }

        private static bool NeedsQuotes(string name)
        {
            if (name.Length == 0 || name[0] == '-')
            {
                return true;
            }

            // Letters, digits and a few separators parse as a bare word; anything
            // else (spaces, quotes, $, brackets, braces, commas...) gets quotes.
            return name.Any(c => !(char.IsLetterOrDigit(c) || c == '_' || c == '.' || c == '-'));
        }

        private static string EscapeForSingleQuotes(string name)
        {
            var text = new StringBuilder(name.Length + 2);
            foreach (char c in name)
            {
                text.Append(c);
                if (SingleQuotes.IndexOf(c) >= 0)
                {
                    text.Append(c);
                }
            }

            return text.ToString();
        }

        private static string EscapeForDoubleQuotes(string name)
        {
            var text = new StringBuilder(name.Length + 2);
            foreach (char c in name)
            {
                if (c == '`' || c == '$' || DoubleQuotes.IndexOf(c) >= 0)
                {
                    text.Append('`');
                }

                text.Append(c);
            }

            return text.ToString();
        }
    }
}
