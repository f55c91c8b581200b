"""The user admin's add form (docs/access.md §账户): every account of the back office is a
staff account with a role, its regions and a password it changes at the first login;
the page hands them to ``policies.staff.staff_user_ensure``, as ``load_demo`` does."""
from __future__ import annotations

from django import forms
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.contrib.auth.forms import UserCreationForm
from django.utils.html import format_html

from .models import Region
from .roles import ROLE_PERMISSIONS


def _role_choices():
    return [("", "无角色（登录后看不到任何数据）"), *((role, role) for role in ROLE_PERMISSIONS)]


class RegionsWidget(FilteredSelectMultiple):
    """The two-list chooser laid out as on a change page: the admin's CSS places it right
    of its label inside the wrapper Django gives a model field's widget."""

    def render(self, *args, **kwargs):
        return format_html('<div class="related-widget-wrapper">{}</div>', super().render(*args, **kwargs))


class StaffUserCreationForm(UserCreationForm):
    """用户名, 密码 twice, 角色, 负责统筹区, 超级管理员."""

    role = forms.ChoiceField(label="角色", choices=_role_choices, required=False,
                             help_text="决定账户可用的功能；各角色的权限由系统统一维护")
    regions = forms.ModelMultipleChoiceField(
        label="负责统筹区", queryset=Region.objects.order_by("code"), required=False,
        widget=RegionsWidget("负责统筹区", is_stacked=False),
        help_text="非超级管理员只能看到所选统筹区及其下级区域的数据")
    superuser = forms.BooleanField(label="超级管理员", required=False,
                                   help_text="拥有全部权限，看到全部统筹区的数据")
