namespace PluginProxy.Host.Configuration;

/// <summary>One <c>[[stick_table]]</c> as configured.</summary>
/// <param name="Name">The table's <c>name</c>.</param>
/// <param name="KeySpec"><c>key</c>: <c>source</c>, <c>header:&lt;name&gt;</c> or <c>cookie:&lt;name&gt;</c>.</param>
/// <param name="Size"><c>size</c>: the most entries kept.</param>
/// <param name="Expire"><c>expire</c>: how long an entry lives after its last use.</param>
/// <param name="RatePeriod"><c>rate_period</c>: the period rates are counted over.</param>
/// <param name="Spot">Where the table's name is written.</param>
internal sealed record StickTableConfig(string Name, string KeySpec, int Size, TimeSpan Expire, TimeSpan RatePeriod, SourceSpot Spot)
{
    /// <summary><c>store</c>: the <c>[[store]]</c> the table shares its entries through, or null to keep them local.</summary>
    public Named? Store { get; init; }
}
