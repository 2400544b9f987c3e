using System.Collections;
using System.Collections.Concurrent;
using System.Reflection;
using System.Text;

namespace PluginProxy.Abstractions.Options;

/// <summary>One problem found while binding options: where it is and what is wrong, printed as <c>file:line:column: message</c>.</summary>
public sealed record OptionError(OptionSpot Where, string Message)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Where}: {Message}";
}

/// <summary>What <see cref="OptionsBinder.Bind{T}"/> returns: the options (defaults standing in for every wrong value) and every error.</summary>
public sealed record OptionsBinding<T>(T Value, IReadOnlyList<OptionError> Errors)
{
    /// <summary>True when there was no error.</summary>
    public bool IsValid => Errors.Count == 0;
}

/// <summary>
/// Fills a plugin's typed options class from a table of the configuration (<see cref="ListenerSettings.Table"/> or a
/// table under it), reporting each wrong value at its <c>file:line:column</c> in the host's words. An options class has
/// a public parameterless constructor and settable (or init) properties; a property binds the key named by
/// <see cref="OptionKeyAttribute"/>, else its name in snake_case. Supported types: <see cref="bool"/>, <see cref="int"/>,
/// <see cref="long"/> (with <see cref="SizeAttribute"/>: sizes such as <c>"16k"</c>), <see cref="double"/>,
/// <see cref="string"/>, <see cref="TimeSpan"/> (durations such as <c>"5s"</c>), enums (members in snake_case), string
/// lists (a single string is a list of one), nested options classes (tables) and lists of them (arrays of tables), each
/// nullable. A value left out keeps the property's initial value.
/// </summary>
public static class OptionsBinder
{
    private static readonly ConcurrentDictionary<Type, PropertyInfo[]> Properties = new();

    /// <summary>
    /// Binds <paramref name="node"/> (null: nothing written, the defaults) into a new <typeparamref name="T"/>.
    /// </summary>
    /// <param name="node">The table to bind; anything else is an error at it.</param>
    /// <param name="path">The table's dotted path, prefixed to keys in messages (<c>"options.rate_limit"</c>); empty for a listener's own keys.</param>
    /// <param name="claimsTable">True when <typeparamref name="T"/> owns every key of the table, so that any other key is reported as unknown.</param>
    public static OptionsBinding<T> Bind<T>(OptionNode? node, string path = "", bool claimsTable = true) where T : class, new()
    {
        var errors = new List<OptionError>();
        T value = new();
        if (node is OptionTable table)
        {
            value = (T)BindTable(typeof(T), table, path, claimsTable, errors);
        }
        else if (node is not null)
        {
            errors.Add(new OptionError(node.Spot, $"`{path}` must be a table, not {node.Describe()}"));
        }

        return new OptionsBinding<T>(value, errors);
    }

    /// <summary>The keys <typeparamref name="T"/> binds, in declaration order.</summary>
    public static IReadOnlyList<string> KeysOf<T>() => PropertiesOf(typeof(T)).Select(KeyOf).ToArray();

    /// <summary>A name in snake_case: <c>MaxRequestBody</c> → <c>max_request_body</c>.</summary>
    public static string SnakeCase(string name)
    {
        var text = new StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0 && (char.IsLower(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1]))))
            {
                text.Append('_');
            }

            text.Append(char.ToLowerInvariant(name[i]));
        }

        return text.ToString();
    }

    private static PropertyInfo[] PropertiesOf(Type type) => Properties.GetOrAdd(type, static t =>
        t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite && p.SetMethod!.IsPublic && p.GetIndexParameters().Length == 0).ToArray());

    private static string KeyOf(PropertyInfo property) => property.GetCustomAttribute<OptionKeyAttribute>()?.Key ?? SnakeCase(property.Name);

    private static object BindTable(Type type, OptionTable table, string path, bool claimsTable, List<OptionError> errors)
    {
        object instance = Activator.CreateInstance(type)
            ?? throw new InvalidOperationException($"{type.Name} has no public parameterless constructor.");
        string prefix = path.Length == 0 ? "" : path + ".";
        int before = errors.Count;
        PropertyInfo[] properties = PropertiesOf(type);
        foreach (PropertyInfo property in properties)
        {
            string key = KeyOf(property);
            OptionEntry? entry = table.Find(key);
            if (entry is null)
            {
                if (property.GetCustomAttribute<RequiredOptionAttribute>() is not null)
                {
                    errors.Add(new OptionError(table.Spot, $"{Display(path)} needs `{prefix}{key}`"));
                }

                continue;
            }

            var reader = new ValueReader(property, prefix + key, errors);
            if (reader.Read(property.PropertyType, entry.Value, out object? value))
            {
                property.SetValue(instance, value);
            }
        }

        if (claimsTable)
        {
            string[] known = properties.Select(KeyOf).ToArray();
            foreach (OptionEntry entry in table.Entries.Where(e => !known.Contains(e.Key)))
            {
                string? suggestion = ConfigUnits.Closest(entry.Key, known);
                string hint = suggestion is not null ? $"did you mean `{suggestion}`?" : $"known keys are: {string.Join(", ", known)}";
                errors.Add(new OptionError(entry.KeySpot, $"unknown key `{entry.Key}` in {Display(path)}; {hint}"));
            }
        }

        if (errors.Count == before && instance is IValidatableOptions validatable)
        {
            foreach ((string key, string message) in validatable.Validate())
            {
                errors.Add(new OptionError(SpotOf(table, key), message));
            }
        }

        return instance;
    }

    /// <summary>
    /// Where a key named by <see cref="IValidatableOptions.Validate"/> is written: its value, or for <c>key[i]</c> the
    /// array's item <c>i</c> (the value itself when it is not an array, as a single string standing for a list of one);
    /// the table when the key is absent.
    /// </summary>
    private static OptionSpot SpotOf(OptionTable table, string key)
    {
        int open = key.IndexOf('[');
        if (open < 0 || !key.EndsWith(']') || !int.TryParse(key.AsSpan(open + 1, key.Length - open - 2), out int index))
        {
            return table.Find(key)?.Value.Spot ?? table.Spot;
        }

        return table.Find(key[..open])?.Value switch
        {
            OptionArray array when index >= 0 && index < array.Items.Count => array.Items[index].Spot,
            OptionNode node => node.Spot,
            null => table.Spot,
        };
    }

    private static string Display(string path) => path.Length == 0 ? "the table" : $"`{path}`";

    /// <summary>Reads one value for one property, recording an error at the value when it does not fit.</summary>
    private readonly struct ValueReader(PropertyInfo property, string key, List<OptionError> errors)
    {
        public bool Read(Type declared, OptionNode node, out object? value)
        {
            Type type = Nullable.GetUnderlyingType(declared) ?? declared;
            value = null;
            if (property.GetCustomAttribute<SizeAttribute>() is not null && (type == typeof(long) || type == typeof(int)))
            {
                return ReadSize(type, node, out value);
            }

            if (type == typeof(bool))
            {
                return Scalar<bool>(node, "true or false", out value);
            }

            if (type == typeof(string))
            {
                return Scalar<string>(node, "a string", out value);
            }

            if (type == typeof(int) || type == typeof(long))
            {
                return ReadInteger(type, node, out value);
            }

            if (type == typeof(double))
            {
                return ReadDouble(node, out value);
            }

            if (type == typeof(TimeSpan))
            {
                return ReadDuration(node, out value);
            }

            if (type.IsEnum)
            {
                return ReadEnum(type, node, out value);
            }

            if (ListElement(type) is { } element)
            {
                return element == typeof(string) ? ReadStrings(type, node, out value) : ReadTables(type, element, node, out value);
            }

            if (type.IsClass && type.GetConstructor(Type.EmptyTypes) is not null)
            {
                if (node is OptionTable table)
                {
                    value = BindTable(type, table, key, claimsTable: true, errors);
                    return true;
                }

                return Wrong(node, "a table");
            }

            throw new NotSupportedException($"Options property {property.DeclaringType?.Name}.{property.Name} has type {type.Name}, which the binder cannot fill.");
        }

        private bool Wrong(OptionNode node, string expected)
        {
            errors.Add(new OptionError(node.Spot, $"`{key}` must be {expected}, not {node.Describe()}"));
            return false;
        }

        private bool Error(OptionNode node, string message)
        {
            errors.Add(new OptionError(node.Spot, message));
            return false;
        }

        private bool Scalar<TValue>(OptionNode node, string expected, out object? value)
        {
            value = node is OptionValue { Value: TValue v } ? v : null;
            return value is not null || Wrong(node, expected);
        }

        private (long Min, long Max) Range(long min, long max) =>
            property.GetCustomAttribute<OptionRangeAttribute>() is { } range ? (Math.Max(min, range.Min), Math.Min(max, range.Max)) : (min, max);

        private bool ReadInteger(Type type, OptionNode node, out object? value)
        {
            value = null;
            (long min, long max) = Range(type == typeof(int) ? int.MinValue : long.MinValue, type == typeof(int) ? int.MaxValue : long.MaxValue);
            if (node is not OptionValue { Value: long n })
            {
                return Wrong(node, $"an integer from {min} to {max}");
            }

            if (n < min || n > max)
            {
                return Error(node, $"`{key}` must be from {min} to {max}, not {n}");
            }

            value = type == typeof(int) ? (object)(int)n : n;
            return true;
        }

        private bool ReadDouble(OptionNode node, out object? value)
        {
            value = node switch
            {
                OptionValue { Value: double d } => d,
                OptionValue { Value: long n } => (double)n,
                _ => null,
            };
            return value is not null || Wrong(node, "a number");
        }

        private bool ReadSize(Type type, OptionNode node, out object? value)
        {
            value = null;
            long bytes;
            switch (node)
            {
                case OptionValue { Value: long n }:
                    bytes = n;
                    break;
                case OptionValue { Value: string text }:
                    if (!ConfigUnits.TryParseSize(text, out bytes, out string? problem))
                    {
                        return Error(node, $"`{key}`: {problem}");
                    }

                    break;
                default:
                    return Wrong(node, "a size (an integer of bytes, or a string such as \"16k\")");
            }

            (long min, long max) = Range(0, type == typeof(int) ? int.MaxValue : long.MaxValue);
            if (bytes < min || bytes > max)
            {
                return Error(node, $"`{key}` must be from {min} to {max} bytes, not {bytes}");
            }

            value = type == typeof(int) ? (object)(int)bytes : bytes;
            return true;
        }

        private bool ReadDuration(OptionNode node, out object? value)
        {
            value = null;
            if (node is not OptionValue { Value: string text })
            {
                return Wrong(node, "a duration string such as \"5s\" or \"250ms\"");
            }

            if (!ConfigUnits.TryParseDuration(text, out TimeSpan duration, out string? problem))
            {
                return Error(node, $"`{key}`: {problem}");
            }

            if (duration < TimeSpan.FromMilliseconds(1))
            {
                return Error(node, $"`{key}` must be at least 1ms, not \"{text}\"");
            }

            value = duration;
            return true;
        }

        private bool ReadEnum(Type type, OptionNode node, out object? value)
        {
            value = null;
            string[] names = Enum.GetNames(type);
            string[] keys = names.Select(SnakeCase).ToArray();
            if (node is not OptionValue { Value: string text })
            {
                return Wrong(node, $"one of {string.Join(", ", keys.Select(k => $"\"{k}\""))}");
            }

            int index = Array.IndexOf(keys, text);
            if (index < 0)
            {
                string? suggestion = ConfigUnits.Closest(text, keys);
                string hint = suggestion is not null ? $"did you mean \"{suggestion}\"?" : $"use {string.Join(", ", keys.Select(k => $"\"{k}\""))}";
                return Error(node, $"`{key}` \"{text}\" is unknown; {hint}");
            }

            value = Enum.Parse(type, names[index]);
            return true;
        }

        /// <summary>The element type of a list property (<c>List&lt;T&gt;</c>, <c>IReadOnlyList&lt;T&gt;</c>, <c>T[]</c>, ...), or null.</summary>
        private static Type? ListElement(Type type)
        {
            if (type.IsArray)
            {
                return type.GetElementType();
            }

            if (type.IsGenericType && type.GetGenericArguments() is [Type element]
                && type.GetGenericTypeDefinition() is { } definition
                && (definition == typeof(List<>) || definition == typeof(IReadOnlyList<>) || definition == typeof(IList<>)
                    || definition == typeof(IReadOnlyCollection<>) || definition == typeof(IEnumerable<>)))
            {
                return element;
            }

            return null;
        }

        private static object Collect(Type listType, Type element, IList items)
        {
            if (listType.IsArray)
            {
                var array = Array.CreateInstance(element, items.Count);
                items.CopyTo(array, 0);
                return array;
            }

            return items;
        }

        private bool ReadStrings(Type type, OptionNode node, out object? value)
        {
            value = null;
            var items = new List<string>();
            switch (node)
            {
                case OptionValue { Value: string single }:
                    items.Add(single);
                    break;
                case OptionArray array:
                    bool ok = true;
                    foreach (OptionNode item in array.Items)
                    {
                        if (item is OptionValue { Value: string s })
                        {
                            items.Add(s);
                        }
                        else
                        {
                            ok = Error(item, $"`{key}` must hold strings, not {item.Describe()}");
                        }
                    }

                    if (!ok)
                    {
                        return false;
                    }

                    break;
                default:
                    return Wrong(node, "a string or a list of strings");
            }

            value = Collect(type, typeof(string), items);
            return true;
        }

        private bool ReadTables(Type type, Type element, OptionNode node, out object? value)
        {
            value = null;
            if (node is not OptionArray array)
            {
                return Wrong(node, $"an array of tables ([[{key}]])");
            }

            var items = (IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(element))!;
            int before = errors.Count;
            foreach (OptionNode item in array.Items)
            {
                if (item is OptionTable table)
                {
                    items.Add(BindTable(element, table, key, claimsTable: true, errors));
                }
                else
                {
                    Error(item, $"`{key}` must hold tables such as {{ name = \"a\", ... }}, not {item.Describe()}");
                }
            }

            value = Collect(type, element, items);
            return errors.Count == before;
        }
    }
}
