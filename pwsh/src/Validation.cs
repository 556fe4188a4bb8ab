using System;
using System.Management.Automation;

namespace PoshIBWAPI.Config
{
    /// <summary>
    /// Rejects an empty or whitespace-only string at parameter binding, as
    /// Posh-IBWAPI 4.x does for every string parameter of the IBConfig cmdlets.
    /// </summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    public sealed class ValidateNotBlankAttribute : ValidateArgumentsAttribute
    {
        /// <inheritdoc/>
        protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
        {
            if (arguments == null || string.IsNullOrWhiteSpace(arguments.ToString()))
            {
                throw new ValidationMetadataException(
                    "The value is empty or only whitespace. Supply a non-blank value.");
            }
        }
    }

    /// <summary>
    /// Accepts a WAPI version that parses as a .NET System.Version (2 to 4
    /// numeric parts, such as 2.12 or 2.12.3), or the word <c>latest</c>.
    /// </summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    public sealed class ValidateWapiVersionAttribute : ValidateArgumentsAttribute
    {
        /// <summary>The value that asks the grid for its newest version.</summary>
        public const string Latest = "latest";

        /// <inheritdoc/>
        protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
        {
            string text = arguments?.ToString();
            if (IsLatest(text) || Version.TryParse(text ?? string.Empty, out _))
            {
                return;
            }

            throw new ValidationMetadataException(
                $"'{text}' is not a WAPI version."
                    + " Use a version such as 2.12 or 2.12.3, or 'latest'.");
        }

        /// <summary>Whether <paramref name="text"/> is <c>latest</c> in any letter case.</summary>
        public static bool IsLatest(string text)
        {
            return string.Equals(text, Latest, StringComparison.OrdinalIgnoreCase);
        }
    }
}
