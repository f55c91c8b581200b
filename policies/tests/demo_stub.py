"""A stand-in demo loader for test_roles (load_demo calls ``load`` of each DEMO_LOADERS module)."""
calls = []


def load(*, acting_user, stdout):
    calls.append(acting_user.username)
    stdout.write("演示桩已加载")
