using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Runtime.Serialization.Json;
using System.Security.Authentication;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml;
using System.Xml.Linq;

namespace PoshIBWAPI.Config
{
    /// <summary>
    /// Resolves <c>-WAPIVersion latest</c>: asks the grid for the versions it
    /// supports and returns the highest, as Posh-IBWAPI 4.x does.
    /// </summary>
    /// <remarks>
    /// Grids new enough for <c>_schema</c> list <c>supported_versions</c>; older
    /// ones answer <c>AdmConProtoError: Unknown argument: _schema=</c>, and then
    /// the version is read from the title of the /wapidoc/ page.
    /// </remarks>
    internal sealed class GridVersionQuery
    {
        private const string OldGridAnswer = "AdmConProtoError: Unknown argument: _schema=";
        private static readonly Regex TitleVersion = new Regex(
            "<title>.*WAPI ([.0-9]+).*</title>",
            RegexOptions.IgnoreCase | RegexOptions.Singleline);

        private readonly string _host;
        private readonly NetworkCredential _credential;
        private readonly bool _skipCertificateCheck;

        /// <summary>
        /// Prepares a query of <paramref name="host"/> with the profile's settings.
        /// </summary>
        public GridVersionQuery(
            string host, NetworkCredential credential, bool skipCertificateCheck)
        {
            _host = host;
            _credential = credential;
            _skipCertificateCheck = skipCertificateCheck;
        }

        /// <summary>Gets or sets how long one request may take.</summary>
        public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

        /// <summary>Asks the grid and returns its highest supported WAPI version.</summary>
        /// <exception cref="GridQueryException">
        /// The grid could not be asked or gave no version.
        /// </exception>
        public string HighestVersion()
        {
            using (HttpClient client = CreateClient())
            {
                Answer schema = Get(client, $"https://{_host}/wapi/v1.1/?_schema");
                if (schema.Status == HttpStatusCode.OK)
                {
                    return HighestOf(ParseSupportedVersions(schema.Body));
                }

                if (schema.Body.Contains(OldGridAnswer))
                {
                    return FromWapidoc(Get(client, $"https://{_host}/wapidoc/"));
                }

                if (schema.Status == HttpStatusCode.Unauthorized)
                {
                    throw Failure(
                        "refused the credential (HTTP 401). Check the user name and password.",
                        ErrorCategory.AuthenticationError);
                }

                throw Failure(
                    $"answered HTTP {(int)schema.Status}"
                        + $" to the schema query: {Shorten(schema.Body)}",
                    ErrorCategory.InvalidResult);
            }
        }

        private HttpClient CreateClient()
        {
            var handler = new HttpClientHandler { UseProxy = true };
            if (_skipCertificateCheck)
            {
                handler.ServerCertificateCustomValidationCallback = (m, c, ch, e) => true;
            }

            var client = new HttpClient(handler) { Timeout = Timeout };
            string pair = _credential.UserName + ":" + _credential.Password;
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
                "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(pair)));
            return client;
        }

        private Answer Get(HttpClient client, string url)
        {
            try
            {
                using (HttpResponseMessage response =
                    client.GetAsync(url).GetAwaiter().GetResult())
                {
                    string body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
                    return new Answer(response.StatusCode, body);
                }
            }
            catch (HttpRequestException e) when (IsCertificateFailure(e))
            {
                throw Failure("presented a TLS certificate this machine does not trust. Trust its"
                    + " certificate, or save the profile with -SkipCertificateCheck.",
                    ErrorCategory.SecurityError, e);
            }
            catch (HttpRequestException e)
            {
                throw Failure(
                    "could not be reached: " + Innermost(e).Message,
                    ErrorCategory.ConnectionError,
                    e);
            }
            catch (System.Threading.Tasks.TaskCanceledException e)
            {
                throw Failure(
                    $"did not answer within {Timeout.TotalSeconds:0} seconds.",
                    ErrorCategory.OperationTimeout,
                    e);
            }
        }

        private string FromWapidoc(Answer page)
        {
            Match match = TitleVersion.Match(page.Body);
            if (page.Status != HttpStatusCode.OK || !match.Success)
            {
                throw Failure("is too old for the schema query, and its /wapidoc/ page names no"
                    + " WAPI version. Pass a version such as 1.4 instead of latest.",
                    ErrorCategory.InvalidResult);
            }

            return match.Groups[1].Value;
        }

        private string HighestOf(IReadOnlyList<string> versions)
        {
            var parsed = versions
                .Select(v =>
                    (Text: v, Ok: Version.TryParse(v, out Version number), Number: number))
                .Where(v => v.Ok)
                .ToList();
            if (parsed.Count == 0)
            {
                throw Failure(
                    "answered the schema query without any supported_versions.",
                    ErrorCategory.InvalidResult);
            }

            return parsed.OrderBy(v => v.Number).Last().Text;
        }

        private IReadOnlyList<string> ParseSupportedVersions(string json)
        {
            try
            {
                byte[] bytes = Encoding.UTF8.GetBytes(json);
                using (XmlDictionaryReader reader = JsonReaderWriterFactory.CreateJsonReader(
                    bytes, XmlDictionaryReaderQuotas.Max))
                {
                    XElement root = XElement.Load(reader);
                    XElement list = root.Element("supported_versions");
                    return list?.Elements().Select(e => e.Value).ToList() ?? new List<string>();
                }
            }
            catch (XmlException e)
            {
                throw Failure(
                    "answered the schema query with something that is not JSON.",
                    ErrorCategory.InvalidResult,
                    e);
            }
        }

        private GridQueryException Failure(
            string what, ErrorCategory category, Exception inner = null)
        {
            return new GridQueryException($"The grid '{_host}' {what}", category, inner);
        }

        private static bool IsCertificateFailure(Exception e)
        {
            for (Exception x = e; x != null; x = x.InnerException)
            {
                if (x is AuthenticationException)
                {
                    return true;
                }
            }

            return false;
        }

        private static Exception Innermost(Exception e)
        {
            while (e.InnerException != null)
            {
                e = e.InnerException;
            }

            return e;
        }

        private static string Shorten(string text)
        {
            text = text.Trim();
            return text.Length <= 200 ? text : text.Substring(0, 200) + "...";
        }

        private readonly struct Answer
        {
            public Answer(HttpStatusCode status, string body)
            {
                Status = status;
                Body = body ?? string.Empty;
            }

            public HttpStatusCode Status { get; }

            public string Body { get; }
        }
    }

    /// <summary>The grid could not tell its WAPI version; the message names the host.</summary>
    public sealed class GridQueryException : Exception
    {
        internal GridQueryException(string message, ErrorCategory category, Exception inner)
            : base(message, inner)
        {
            Category = category;
        }

        /// <summary>
        /// Gets the PowerShell category: authentication, certificate, connection...
        /// </summary>
        public ErrorCategory Category { get; }
    }
}
