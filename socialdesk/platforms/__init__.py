"""What each platform means to the desk, one module per platform, asked through `registry`.

A platform is registered twice under one name: its connector (`socialdesk.connectors`) and
its platform module (`socialdesk.platforms`, an instance of `base.Platform`). Nothing else
in socialdesk names a platform.
"""
